"""The HTML report, rendered in a real headless Chromium, shows the matrix and the failures.

Two child runs (the reference app, and the encoder that strips CR/LF from ids)
are merged by ``spec.matrix`` into one page; the browser renders it and the
test reads what a person would see: the targets, each rule's row, the failing
cell in red and the passing one in green, and the failure's expected/seen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spec import matrix
from tests import browser
from tests.run_suite import run_spec

RULES = "--rules=SSE-ENC-02,SSE-ENC-07,SURFACE-SSE-*"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The matrix page of the reference app and the stripping encoder."""
    folder = tmp_path_factory.mktemp("html")
    reference = run_spec(folder / "ref", RULES).report
    stripping = run_spec(folder / "strip", RULES, "--target=tests.broken.stripping_encoder:app")
    reference["label"], stripping.report["label"] = "reference", "stripping"
    matrix.write(matrix.merge([reference, stripping.report]), folder)
    return folder / "matrix.html"


def test_the_page_is_self_contained(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    assert " src=" not in text
    assert "url(" not in text


@pytest.fixture(scope="module")
def seen(page: Path) -> browser.Seen:
    executable = browser.chromium()
    if executable is None:
        pytest.skip("not run: no chromium on PATH (CI installs Debian's chromium in .ci/run)")
    return browser.render(page, executable=executable)


def test_a_person_sees_the_targets_and_the_rules(seen: browser.Seen) -> None:
    assert "streamspec conformance matrix: 2 targets" in seen.text
    for text in ("reference", "stripping", "SSE-ENC-02", "SSE-ENC-07", "SURFACE-SSE-01"):
        assert text in seen.text
    assert "SSE-PARSE-01" not in seen.text, "rules about the decoder are left out"
    assert "SSE-ENC-01" not in seen.text, "rules no target ran are left out"


def test_the_failing_cell_is_red_and_the_passing_cells_green(seen: browser.Seen) -> None:
    cells = {(cell.rule, cell.text) for cell in seen.cells}
    assert ("SSE-ENC-07", "fail") in cells
    failing = next(c for c in seen.cells if c.rule == "SSE-ENC-07" and c.text == "fail")
    passing = next(c for c in seen.cells if c.rule == "SSE-ENC-07" and c.text == "pass")
    red, green, _ = failing.rgb
    assert red > green + 30, f"the failing cell is drawn in {failing.background}"
    red, green, _ = passing.rgb
    assert green > red + 10, f"the passing cell is drawn in {passing.background}"
    assert passing.column < failing.column, "reference (pass) comes before stripping (fail)"
    not_run_or_fail = {c.text for c in seen.cells if c.rule == "SSE-ENC-02"}
    assert not_run_or_fail == {"pass"}, "SSE-ENC-02 passes on both"


def test_a_person_sees_what_failed_and_why(seen: browser.Seen) -> None:
    failures = seen.text[seen.text.index("Failures") :]
    assert "stripping: SSE-ENC-07 (MUST)" in failures
    assert "reference:" not in failures.split("Not judged")[0]
    assert "expected:" in failures
    assert "a 4xx refusal, or no event dispatched" in failures
    assert "last_event_id='ab'" in failures, "what was seen: the id, stripped"
    assert "the whole message" in failures
    assert "spec.rules.RuleViolation" not in failures, "the full message stays folded"


def test_a_failing_cell_links_to_its_failure(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    link = re.search(r'<td class="result fail"[^>]*><a href="#([^"]+)">fail</a></td>', text)
    assert link is not None
    assert f'<section class="failure" id="{link.group(1)}">' in text
    assert "SSE-ENC-07" in link.group(1)


def test_rules_are_grouped_by_chapter(seen: browser.Seen) -> None:
    rules = seen.text.index("Rules")
    chapter = seen.text.index("Server-Sent Events: what a server writes", rules)
    surface = seen.text.index("Conformance surface", rules)
    assert chapter < seen.text.index("SSE-ENC-02", rules) < surface
    assert surface < seen.text.index("SURFACE-SSE-01", rules)


@pytest.fixture(scope="module")
def failures_only(page: Path) -> browser.Seen:
    executable = browser.chromium()
    if executable is None:
        pytest.skip("not run: no chromium on PATH (CI installs Debian's chromium in .ci/run)")
    return browser.render(page, executable=executable, fragment="#failures-only")


def test_the_failures_only_view_shows_the_failing_rules_alone(
    failures_only: browser.Seen,
) -> None:
    rules = failures_only.text[failures_only.text.index("Rules") :]
    table = rules[: rules.index("Failures")]
    assert "SSE-ENC-07" in table
    assert "SSE-ENC-02" not in table, "a rule every target passed is hidden"
    assert "Conformance surface" not in table, "a chapter with no failure is hidden"
    assert "stripping: SSE-ENC-07 (MUST)" in rules, "the failures are there"
    assert "Not judged" not in rules
