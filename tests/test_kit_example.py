"""The README's kit example, as a user runs it: the spec judges a Starlette app's own streams.

The code block between ``<!-- kit-example:start -->`` and ``<!-- kit-example:end -->``
in README.md is written, exactly as it stands, into a module in a temporary
directory outside the package, and ``pytest spec --target=thatmodule:app`` runs
in a child process from the repository root: its report must be written and
must judge the CANCEL and FILE rules (pass or fail: the kit served them with
Starlette's own responses), so a README whose example has gone stale fails here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.run_suite import ROOT, run_spec

MODULE = "streamspec_kit_example"
MAX_LINES = 30

_BLOCK = re.compile(
    r"<!-- kit-example:start -->\n```python\n(?P<code>.*?)```\n<!-- kit-example:end -->", re.S
)


def example_code() -> str:
    """The README's kit example: the one Python block between the markers."""
    found = _BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(found) == 1, "README.md holds exactly one marked kit example"
    code: str = found[0]
    return code


def test_the_example_is_short() -> None:
    assert len(example_code().splitlines()) <= MAX_LINES


def test_the_readme_example_is_judged_by_the_spec(tmp_path: Path) -> None:
    """Every CANCEL and FILE rule passes or fails, but those of idle streams, which the
    example declares it does not serve (``SSE(..., keepalive=False)``)."""
    package = tmp_path / "example"
    package.mkdir()
    (package / f"{MODULE}.py").write_text(example_code(), encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(package), os.environ.get("PYTHONPATH", "")]))
    run = run_spec(tmp_path, f"--target={MODULE}:app", env={"PYTHONPATH": path})
    assert (tmp_path / "report.json").is_file()
    assert run.returncode != 4, f"the example did not load as a target:\n{run.output[-3000:]}"
    judged = {"CANCEL": 0, "FILE": 0}
    for rule in run.report["rules"]:
        chapter = rule["id"].split("-")[0]
        if chapter not in judged:
            continue
        if rule["result"] in ("pass", "fail"):
            judged[chapter] += 1
            continue
        why = " ".join(check["message"] for check in rule["checks"])
        assert rule["result"] == "not applicable", (rule["id"], rule["result"], why)
        assert "idle: false" in why, (rule["id"], why)
    assert judged["CANCEL"] >= 10, (judged, run.output[-3000:])
    assert judged["FILE"] == sum(1 for r in run.report["rules"] if r["id"].startswith("FILE-"))
