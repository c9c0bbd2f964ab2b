"""The rule machinery: IDs, declarations, outcomes, and the rendered spec kept in step."""

from __future__ import annotations

import re

import pytest

from spec import render, report
from spec.chapters import load_all
from spec.rules import MUST, REGISTRY, Chapter, Rule, RuleViolation, Source, expect

SOURCE = Source("test", "1", "https://example.invalid/")


@pytest.fixture
def scratch_chapter() -> object:
    """A chapter whose rules are removed from the registry afterwards."""
    before = set(REGISTRY)
    yield Chapter("tests.scratch")
    for rule_id in set(REGISTRY) - before:
        del REGISTRY[rule_id]


def test_rule_ids_must_be_well_formed(scratch_chapter: Chapter) -> None:
    with pytest.raises(ValueError, match="not of the form"):
        scratch_chapter.rule("sse-1", MUST, "x", SOURCE)


def test_rule_ids_are_unique(scratch_chapter: Chapter) -> None:
    scratch_chapter.rule("TEST-ONE-01", MUST, "x", SOURCE)
    with pytest.raises(ValueError, match="declared twice"):
        scratch_chapter.rule("TEST-ONE-01", MUST, "y", SOURCE)


def test_a_check_needs_a_docstring(scratch_chapter: Chapter) -> None:
    rule = scratch_chapter.rule("TEST-ONE-02", MUST, "x", SOURCE)

    def check_undocumented() -> None:
        pass

    with pytest.raises(ValueError, match="needs a docstring"):
        rule.check(check_undocumented)


def test_every_rule_has_a_check_and_a_statement() -> None:
    load_all()
    for rule in REGISTRY.values():
        if rule.chapter.startswith("spec.chapters."):
            assert rule.checks, f"{rule.id} has no check"
            assert rule.statement.endswith("."), f"{rule.id}: state the rule as one sentence"


def test_expect_names_what_was_expected_and_seen() -> None:
    with pytest.raises(RuleViolation) as caught:
        expect([1], [2], "events")
    assert str(caught.value) == "events\n  expected: [2]\n  seen:     [1]"


@pytest.mark.parametrize(
    ("outcomes", "result"),
    [
        ([], "not run"),
        (["pass", "pass"], "pass"),
        (["pass", "fail"], "fail"),
        (["pass", "not observable"], "partial"),
        (["not observable", "not applicable"], "not observable"),
        (["not applicable"], "not applicable"),
    ],
)
def test_rule_result_from_check_outcomes(outcomes: list[str], result: str) -> None:
    rule = Rule.__new__(Rule)
    checks = [report.CheckOutcome(f"n{i}", outcome) for i, outcome in enumerate(outcomes)]
    assert report.RuleResult(rule, checks).result == result


def test_skip_reasons_are_classified() -> None:
    assert report.classify_skip("not applicable: serves no files") == "not applicable"
    assert report.classify_skip("not observable: no ASGI app") == "not observable"
    assert report.classify_skip("anything else") == "not observable"


def test_rendered_spec_is_up_to_date() -> None:
    """``spec/README.md`` is generated; regenerate it with ``python -m spec.render``."""
    assert render.OUTPUT.read_text(encoding="utf-8") == render.render()


def test_rendered_spec_lists_every_rule() -> None:
    text = render.render()
    for rule_id in REGISTRY:
        if REGISTRY[rule_id].chapter.startswith("spec.chapters."):
            assert f"### {rule_id} (" in text


def test_every_in_page_source_link_has_its_anchor() -> None:
    """A rule citing the streaming tutorial (not published) links to the paragraph that
    names it; every ``#anchor`` a source links to exists in the rendered spec."""
    load_all()
    text = render.render()
    anchors = {f"#{name}" for name in re.findall(r'<a id="([^"]+)"></a>', text)}
    linked = {rule.source.url for rule in REGISTRY.values() if rule.source.url.startswith("#")}
    assert "#sources" in linked
    assert linked <= anchors


def test_a_chapters_sections_sit_below_the_chapter() -> None:
    """Only the contents and the chapters are ``##`` headings; a chapter's sections are
    ``###``, beside its rules; a fenced block's ``#`` lines are not headings."""
    load_all()
    headings = [line for line in render.render().splitlines() if line.startswith("## ")]
    assert headings[0] == "## Contents"
    assert all(re.match(r"## \d+\. ", line) for line in headings[1:])
    fenced = render._sections_below_chapter("## Part\n```sh\n## a comment\n```")
    assert fenced == "### Part\n```sh\n## a comment\n```"


def test_a_rule_says_why_when_its_source_does_not_require_it(scratch_chapter: Chapter) -> None:
    plain = scratch_chapter.rule("SCRATCH-WHY-01", MUST, "Always.", Source("RFC 1", "1", "#x"))
    own = scratch_chapter.rule(
        "SCRATCH-WHY-02",
        MUST,
        "Also.",
        Source("RFC 1", "1", "#x"),
        why="practice asks",
        beyond_source=True,
    )
    assert not any("does not require" in line for line in render.render_rule(plain))
    assert "*The source does not require this; streamspec does:* practice asks" in (
        render.render_rule(own)
    )
    with pytest.raises(ValueError, match="SCRATCH-WHY-03 goes beyond its source"):
        scratch_chapter.rule(
            "SCRATCH-WHY-03", MUST, "Said.", Source("RFC 1", "1", "#x"), beyond_source=True
        )


def test_a_rule_says_what_goes_wrong_without_it(scratch_chapter: Chapter) -> None:
    """A *why* of a rule its source requires is what breaks in practice, not a reason the
    source lacks."""
    rule = scratch_chapter.rule(
        "SCRATCH-WHY-04", MUST, "Always.", Source("RFC 1", "1", "#x"), why="a proxy waits"
    )
    lines = render.render_rule(rule)
    assert "*Why:* a proxy waits" in lines
    assert not any("does not require" in line for line in lines)
