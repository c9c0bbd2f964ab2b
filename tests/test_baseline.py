"""The expected-failures baseline (``--baseline=FILE``): known failures do not fail the run,
a listed one that passes now does, and an entry that names nothing is a usage error.

The child runs judge the encoder that strips CR/LF from ids
(``tests.broken.stripping_encoder``), which fails SSE-ENC-07 and passes SSE-ENC-06.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spec import baseline
from spec.chapters import load_all
from spec.rules import REGISTRY
from tests.run_suite import ROOT, SuiteRun, run_spec

load_all()
TARGET = "--target=tests.broken.stripping_encoder:app"
RULES = "--rules=SSE-ENC-06,SSE-ENC-07"
CHECK = "spec/chapters/sse_encoding.py::check_id_with_line_break_is_refused"


def _baseline(tmp_path: Path, text: str) -> str:
    path = tmp_path / "baseline.txt"
    path.write_text(text, encoding="utf-8")
    return f"--baseline={path}"


def _rule(run: SuiteRun, rule_id: str) -> dict[str, Any]:
    rule: dict[str, Any] = next(rule for rule in run.report["rules"] if rule["id"] == rule_id)
    return rule


def test_the_file_lists_rules_and_checks_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    path.write_text(
        f"# known failures\nSSE-ENC-07  # strips CR/LF\n\n{CHECK}[asgi]\n{CHECK}\n",
        encoding="utf-8",
    )
    known = baseline.load(path, REGISTRY)
    assert [(e.text, e.line, e.rule) for e in known.entries] == [
        ("SSE-ENC-07", 2, "SSE-ENC-07"),
        (f"{CHECK}[asgi]", 4, "SSE-ENC-07"),
        (CHECK, 5, "SSE-ENC-07"),
    ]
    by_function = known.entries[2]
    assert by_function.covers(f"{CHECK}[socket]", "SSE-ENC-07")
    assert not by_function.covers(f"{CHECK}_too[socket]", "SSE-ENC-07")


def test_a_check_is_named_by_its_chapter_file_wherever_the_chapters_are(tmp_path: Path) -> None:
    """Installed, the node ids start streamspec/chapters/ (or, in a project's own run, from
    that project's directory): an entry written in a checkout covers the same check."""
    name = CHECK.removeprefix("spec/chapters/")
    path = tmp_path / "b.txt"
    path.write_text(f"{CHECK}\n{name}[asgi]\n", encoding="utf-8")
    from_checkout, short = baseline.load(path, REGISTRY).entries
    for nodeid in (
        f"streamspec/chapters/{name}[asgi]",
        f"../venv/lib/python3.11/site-packages/streamspec/chapters/{name}[asgi]",
        f"{name}[asgi]",
    ):
        assert from_checkout.covers(nodeid, "SSE-ENC-07")
        assert short.covers(nodeid, "SSE-ENC-07")
    assert not short.covers(f"{CHECK}[socket]", "SSE-ENC-07")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("SSE-ENC-99", "names no rule"),
        ("spec/chapters/sse_encoding.py::check_nothing", "names no check of any rule"),
    ],
)
def test_an_entry_that_names_nothing_is_refused(tmp_path: Path, line: str, error: str) -> None:
    path = tmp_path / "b.txt"
    path.write_text(f"# one\n{line}\n", encoding="utf-8")
    with pytest.raises(baseline.BaselineError, match=rf"line 2: '{line}' {error}$"):
        baseline.load(path, REGISTRY)


def test_without_a_baseline_the_failing_rule_fails_the_run(tmp_path: Path) -> None:
    run = run_spec(tmp_path, RULES, TARGET)
    assert run.returncode == 1, run.output
    assert run.failing() == {"SSE-ENC-07"}
    assert _rule(run, "SSE-ENC-07")["baselined"] is False
    assert "(baselined)" not in run.output


def test_a_baselined_rule_that_fails_does_not_fail_the_run(tmp_path: Path) -> None:
    run = run_spec(tmp_path, RULES, TARGET, _baseline(tmp_path, "SSE-ENC-07  # strips CR/LF\n"))
    assert run.returncode == 0, run.output
    assert run.failing() == {"SSE-ENC-07"}, "still a failure, in the report"
    rule = _rule(run, "SSE-ENC-07")
    assert rule["baselined"] is True
    failed = [c for c in rule["checks"] if c["outcome"] == "fail"]
    assert failed
    assert all(c["baselined"] for c in failed)
    assert re.search(r"^SSE-ENC-07 +MUST +fail \(baselined\)", run.output, re.MULTILINE)
    assert "1 fail (1 baselined)" in run.output
    assert "xfailed" in run.output, "pytest counts it as an expected failure"
    assert run.report["baseline"]["stale"] == []


def test_a_baselined_check_covers_that_check_only(tmp_path: Path) -> None:
    """One transport's check listed: the other transport's failure still fails the run;
    both listed (the node id without its parameter): the run passes."""
    one = run_spec(tmp_path / "one", RULES, TARGET, _baseline(tmp_path, f"{CHECK}[asgi]\n"))
    assert one.returncode == 1, one.output
    rule = _rule(one, "SSE-ENC-07")
    assert rule["baselined"] is False
    baselined = {c["nodeid"]: c["baselined"] for c in rule["checks"] if c["outcome"] == "fail"}
    assert baselined[f"{CHECK}[asgi]"] is True
    assert baselined[f"{CHECK}[socket]"] is False
    other = [n for n, b in baselined.items() if not b]
    both = "\n".join([CHECK, *(n for n in other if not n.startswith(CHECK))])
    run = run_spec(tmp_path / "both", RULES, TARGET, _baseline(tmp_path, both + "\n"))
    assert run.returncode == 0, run.output
    assert _rule(run, "SSE-ENC-07")["baselined"] is True


def test_a_listed_rule_that_passes_is_a_stale_entry_that_fails_the_run(tmp_path: Path) -> None:
    run = run_spec(tmp_path, RULES, TARGET, _baseline(tmp_path, "SSE-ENC-07\nSSE-ENC-06\n"))
    assert run.returncode == 1, run.output
    assert "stale baseline entry SSE-ENC-06" in run.output
    assert "line 2): it passes now; remove it from the baseline" in run.output
    assert run.report["baseline"]["stale"] == [{"entry": "SSE-ENC-06", "line": 2}]
    assert _rule(run, "SSE-ENC-07")["baselined"] is True


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("SSE-ENC-99", "'SSE-ENC-99' names no rule"),
        (f"{CHECK}[nowhere]", "is no check of this run"),
    ],
)
def test_an_entry_that_names_nothing_is_a_usage_error(tmp_path: Path, line: str, said: str) -> None:
    listing = _baseline(tmp_path, line + "\n")
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "spec", "-q", "-p", "no:cacheprovider", RULES, listing],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout
    assert said in completed.stderr
