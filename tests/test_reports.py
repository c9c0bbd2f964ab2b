"""The reports: JSON (and its schema), JUnit XML, and how results are shown to a person.

Most tests here build results by hand and read what :mod:`spec.report`,
:mod:`spec.junit`, :mod:`spec.html_report` and :mod:`spec.matrix` make of them;
one runs the spec against the reference app in a child pytest, as a user does,
and reads the reports it wrote.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import settings

from spec import console, html_report, junit, matrix, report
from spec.chapters import load_all
from spec.report import FAIL, INAPPLICABLE, PASS, UNOBSERVED, CheckOutcome, RuleResult
from spec.rules import REGISTRY
from tests.run_suite import run_spec, validate

load_all()
NODE = "spec/chapters/file.py::check_traversal_refused"


def _violation(expected: object, seen: object, **fields: Any) -> CheckOutcome:
    return CheckOutcome(
        f"{NODE}[asgi]",
        FAIL,
        f"what\n  expected: {expected!r}\n  seen:     {seen!r}",
        expected=repr(expected),
        seen=repr(seen),
        expected_value=expected,
        seen_value=seen,
        **fields,
    )


def _results(*checks: CheckOutcome, rule_id: str = "FILE-NAME-01") -> list[RuleResult]:
    return [RuleResult(REGISTRY[rule_id], list(checks))]


def _check(made: dict[str, Any]) -> dict[str, Any]:
    check: dict[str, Any] = made["rules"][0]["checks"][0]
    return check


def test_the_report_says_which_tool_when_how_long_and_with_what_hypothesis() -> None:
    made = report.to_json(
        "app:app",
        _results(CheckOutcome(f"{NODE}[asgi]", PASS)),
        started=datetime(2026, 12, 2, 6, 15, 41, 123456, tzinfo=UTC),
        duration=12.5,
        hypothesis=report.hypothesis_run("42"),
    )
    assert made["tool"] == {"name": "streamspec", "version": metadata.version("streamspec")}
    assert made["started"] == "2026-12-02T06:15:41.123Z"
    assert made["duration_seconds"] == 12.5
    assert made["hypothesis"] == {
        "profile": settings.get_current_profile_name(),
        "seed": 42,
        "derandomize": settings().derandomize,
        "max_examples": settings().max_examples,
    }
    assert made["target"] == "app:app"
    validate(made)


def test_each_rule_names_its_chapter_by_title_and_keeps_the_module() -> None:
    rule = report.to_json("app:app", _results())["rules"][0]
    assert rule["chapter"] == "File download"
    assert rule["chapter_module"] == "spec.chapters.file"


def test_expected_and_seen_are_json_values_with_their_reprs_beside() -> None:
    check = _check(report.to_json("app:app", _results(_violation((404, 400), 500))))
    assert check["expected"] == [404, 400]
    assert check["seen"] == 500
    assert (check["expected_repr"], check["seen_repr"]) == ("(404, 400)", "500")
    nested = _check(report.to_json("a", _results(_violation({"a": [None, True, 1.5]}, "x\n"))))
    assert nested["expected"] == {"a": [None, True, 1.5]}
    assert nested["seen"] == "x\n"


@pytest.mark.parametrize("value", [b"a\n", {1: "a"}, float("nan"), {"a"}, object()])
def test_values_json_cannot_carry_are_their_repr(value: object) -> None:
    check = _check(report.to_json("app:app", _results(_violation(value, "seen"))))
    assert check["expected"] == check["expected_repr"]
    assert check["expected_repr"] == report.without_addresses(repr(value))
    assert check["seen"] == "seen"


def test_a_check_that_is_no_violation_has_no_expected_or_seen() -> None:
    failed = CheckOutcome(f"{NODE}[asgi]", FAIL, "AssertionError: boom")
    check = _check(report.to_json("app:app", _results(failed)))
    assert not {"expected", "seen", "expected_repr", "seen_repr"} & set(check)


def test_examples_and_reprs_hold_no_memory_address() -> None:
    thing = object()
    example = f"Falsifying example: check(\n    x={thing!r},\n)"
    outcome = _violation(thing, [thing], example=example)
    check = _check(report.to_json("app:app", _results(outcome)))
    assert " at 0x" in example
    assert check["example"] == "Falsifying example: check(\n    x=<object object>,\n)"
    assert check["expected"] == check["expected_repr"] == "<object object>"
    assert check["seen_repr"] == "[<object object>]"
    assert " at 0x" not in check["message"]
    assert report.without_addresses("the byte at 0x0a") == "the byte at 0x0a", "reprs only"


def test_the_schema_is_a_draft_2020_12_schema_that_refuses_a_drifting_report() -> None:
    schema = json.loads(report.SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    made = report.to_json("app:app", _results(_violation(1, 2)))
    validate(made)
    for broken in (
        {key: value for key, value in made.items() if key != "tool"},
        {**made, "unknown": 1},
        {**made, "started": "yesterday"},
        {**made, "rules": [{**made["rules"][0], "result": "partly failed"}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def _cases(xml: str) -> list[ET.Element]:
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    return root.findall("./testsuite/testcase")


def test_junit_has_one_testcase_a_rule_with_its_checks_as_properties() -> None:
    inapplicable = CheckOutcome("n2", INAPPLICABLE, "not applicable: no files")
    unobserved = CheckOutcome("n4", UNOBSERVED, "not observable: x")
    results = [
        *_results(_violation((404, 400), 500), CheckOutcome(f"{NODE}[socket]", PASS)),
        *_results(CheckOutcome("n1", PASS), rule_id="SSE-ENC-01"),
        *_results(inapplicable, rule_id="FILE-SERVE-01"),
        *_results(CheckOutcome("n3", PASS), unobserved, rule_id="HDR-SSE-01"),
        *_results(rule_id="HDR-SSE-02"),
    ]
    cases = _cases(junit.render(report.to_json("app:app", results)))
    assert [(case.get("classname"), case.get("name")) for case in cases] == [
        ("File download", "FILE-NAME-01"),
        ("Server-Sent Events: what a server writes", "SSE-ENC-01"),
        ("File download", "FILE-SERVE-01"),
        ("Headers, transfer and intermediaries", "HDR-SSE-01"),
        ("Headers, transfer and intermediaries", "HDR-SSE-02"),
    ]
    failing, passing, inapplicable, partial, not_run = cases
    failure = failing.find("failure")
    assert failure is not None
    assert failure.get("message") == REGISTRY["FILE-NAME-01"].statement
    assert "expected: (404, 400)" in (failure.text or "")
    assert "seen:     500" in (failure.text or "")
    properties = {p.get("name"): p.get("value") for p in failing.iter("property")}
    assert properties[f"check:{NODE}[asgi]"] == "fail"
    assert properties[f"check:{NODE}[socket]"] == "pass"
    assert properties["level"] == "MUST"
    assert list(passing.iter("failure")) == list(passing.iter("skipped")) == []
    skipped = inapplicable.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not applicable: no files"
    assert skipped.get("type") == "not applicable"
    assert partial.find("skipped") is None, "every check that could observe passed"
    assert not_run.find("skipped") is not None


def test_junit_carries_what_xml_cannot_hold_escaped() -> None:
    """A check of a hostile path may print a NUL: the XML still parses."""
    results = _results(_violation("a\0b", "a\x1bb"))
    cases = _cases(junit.render(report.to_json("app:app", results)))
    text = cases[0].find("failure").text or ""  # type: ignore[union-attr]
    assert "'a\\x00b'" in text


def test_a_partial_rule_reads_as_a_pass_where_observable() -> None:
    results = [
        *_results(CheckOutcome("n1", PASS), CheckOutcome("n2", UNOBSERVED, "not observable: x")),
        *_results(CheckOutcome("n3", PASS), rule_id="SSE-ENC-01"),
    ]
    lines = report.table(results)
    assert lines[0].split() == ["rule", "level", "result", "checks", "statement"]
    assert lines[1].startswith("FILE-NAME-01   MUST   pass*               1/2  ")
    assert "partial" not in "\n".join(lines)
    assert lines[-2] == "1 pass, 1 pass*"
    assert lines[-1] == (
        "pass*: every check that could observe passed; 1 check of 1 rule could not observe"
    )
    made = report.to_json("app:app", results)
    assert made["rules"][0]["result"] == "partial", "the JSON keeps the result's name"
    assert made["totals"] == {"partial": 1, "pass": 1}
    page = html_report.render([made])
    assert ">pass*</a></td>" in page, "linked to why it was not judged whole"
    assert "pass*</span>: passed where observable: every check that could observe passed" in page
    merged = matrix.merge([{**made, "label": "a"}])
    table = matrix.markdown(merged)
    assert "| FILE-NAME-01 | MUST | pass* |" in table
    assert "| **totals** | | 1 pass, 1 pass* |" in table


def test_a_table_of_passes_is_as_it_was() -> None:
    """No rule partly observed, none baselined: the table the README shows, no legend."""
    lines = report.table(_results(CheckOutcome("n1", PASS), CheckOutcome("n2", PASS)))
    assert lines[0] == f"{'rule':<14} {'level':<6} {'result':<15} {'checks':>7}  statement"
    assert lines[1].startswith("FILE-NAME-01   MUST   pass                2/2  ")
    assert lines[-1] == "1 pass"


def test_a_baselined_failure_is_marked_in_the_table_json_and_junit() -> None:
    results = _results(_violation(1, 2, baselined=True))
    lines = report.table(results)
    assert "fail (baselined)" in lines[1]
    assert lines[-1] == "1 fail (1 baselined)"
    made = report.to_json("app:app", results)
    assert made["rules"][0]["baselined"] is True
    assert _check(made)["baselined"] is True
    validate(made)
    case = _cases(junit.render(made))[0]
    assert case.find("failure") is None
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("type") == "baselined"


def test_a_fresh_report_of_the_reference_validates_and_its_junit_has_each_rule(
    tmp_path: Path,
) -> None:
    xml_path = tmp_path / "rules.xml"
    run = run_spec(tmp_path, "--rules=SSE-ENC-01,FILE-NAME-01", f"--report-junit={xml_path}")
    assert run.returncode == 0, run.output
    assert f"JUnit rule report written to {xml_path}" in run.output
    made = run.report  # validated against the schema by run_spec
    assert made["tool"]["version"] == metadata.version("streamspec")
    assert made["hypothesis"]["profile"] == "ci"
    assert 0 < made["duration_seconds"] < 600
    started = datetime.fromisoformat(made["started"])
    assert abs((datetime.now(UTC) - started).total_seconds()) < 600
    assert made["baseline"] is None
    cases = _cases(xml_path.read_text(encoding="utf-8"))
    assert [case.get("name") for case in cases] == [rule["id"] for rule in made["rules"]]
    assert {case.get("name") for case in cases if case.find("skipped") is None} == {
        "SSE-ENC-01",
        "FILE-NAME-01",
    }
    assert not any(case.find("failure") is not None for case in cases)


def test_junit_fails_the_rule_of_a_stale_baseline_entry() -> None:
    """A listed rule that passes fails the run: its testcase fails, naming the entry."""
    made = report.to_json(
        "app:app",
        _results(CheckOutcome(f"{NODE}[asgi]", PASS)),
        baseline={"path": "b.txt", "entries": ["FILE-NAME-01"], "stale": [
            {"entry": "FILE-NAME-01", "line": 3}
        ]},
    )  # fmt: skip
    validate(made)
    failure = _cases(junit.render(made))[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "stale baseline"
    assert failure.get("message") == (
        "stale baseline entry FILE-NAME-01 (b.txt, line 3): it passes now; "
        "remove it from the baseline"
    )


def test_a_statement_is_wrapped_in_the_table_never_cut() -> None:
    rule = REGISTRY["FILE-NAME-01"]
    lines = report.table(_results(CheckOutcome("n1", PASS)), width=90)
    rows = lines[1:-1]
    assert "…" not in "\n".join(rows)
    column = rows[0].index("  A name") + 2
    assert " ".join(row[column:].strip() for row in rows) == rule.statement
    assert all(len(row) <= 90 for row in rows)


def test_the_table_of_a_run_shows_the_rules_that_ran() -> None:
    results = [*_results(CheckOutcome("n1", PASS)), *_results(rule_id="SSE-ENC-01")]
    shown = report.table(results, ran_only=True)
    assert [line.split()[0] for line in shown[1:-1] if line[:1] != " "] == ["FILE-NAME-01"]
    assert shown[-1] == "1 pass, 1 not run", "the totals count every rule"


def test_a_failure_seen_on_two_transports_is_shown_once_naming_both() -> None:
    asgi = _violation(404, 500)
    socket = CheckOutcome(
        f"{NODE}[socket]", FAIL, asgi.message, expected=asgi.expected, seen=asgi.seen,
        curl="curl -sS -i -N http://127.0.0.1:1/conformance/files/x",
    )  # fmt: skip
    other = CheckOutcome(f"{NODE}[socket]", FAIL, "another message")
    lines = [line.text for line in console.failures(_results(asgi, socket), width=80)]
    assert lines.count("  check_traversal_refused [asgi, socket]") == 1
    assert "    expected: 404" in lines
    assert "    seen:     500" in lines
    assert "    repeat: curl -sS -i -N http://127.0.0.1:1/conformance/files/x" in lines
    two = [line.text for line in console.failures(_results(asgi, other))]
    assert "  check_traversal_refused [asgi]" in two
    assert "  check_traversal_refused [socket]" in two


def test_a_failure_is_shown_bounded_whatever_its_message() -> None:
    huge = "\n".join(f"line {n} " + "x" * 5000 for n in range(1000))
    checks = [CheckOutcome(f"{NODE}[{n}]", FAIL, f"{n}\n{huge}") for n in range(10)]
    lines = console.failures(_results(*checks), width=80)
    block = console.FAILURES_SHOWN * (console.MESSAGE_LINES + 3)
    assert len(lines) <= 10 + block
    assert max(len(line.text) for line in lines) < console.LINE_CHARS + 80
    assert lines[-1].text == f"  and {10 - console.FAILURES_SHOWN} more failures (the JSON report)"


def test_a_baselined_failure_is_one_line() -> None:
    lines = console.failures(_results(_violation(1, 2, baselined=True)))
    assert [line.text for line in lines] == ["FILE-NAME-01 (MUST): fail (baselined), as expected"]


def test_the_page_shows_a_failure_on_two_transports_once_with_its_curl() -> None:
    asgi = _violation(404, 500)
    socket = CheckOutcome(
        f"{NODE}[socket]", FAIL, asgi.message, expected=asgi.expected, seen=asgi.seen,
        curl="curl -sS -i -N 'http://127.0.0.1:1/conformance/files/a?b=1&c=2'",
    )  # fmt: skip
    made = report.to_json("app:app", _results(asgi, socket), kind="asgi app")
    validate(made)
    page = html_report.render([made])
    assert page.count("<h4>") == 1
    assert f"<h4>{NODE} [asgi, socket]</h4>" in page
    assert "curl -sS -i -N &#x27;http://127.0.0.1:1/conformance/files/a?b=1&amp;c=2&#x27;" in page
    assert "the port the suite served the app on" in page
    assert '<tr class="chapter"><th colspan="4">File download</th></tr>' in page


def test_a_property_failing_on_both_transports_is_one_failure_its_example_one_line() -> None:
    def failed(transport: str) -> CheckOutcome:
        return CheckOutcome(
            f"{NODE}[{transport}]", FAIL,
            "spec.rules.RuleViolation: events\n  expected: 1\n  seen:     2\n"
            f"Failing test case: check_traversal_refused(\n    stream_client={transport},\n"
            "    name='../x',\n)",
        )  # fmt: skip

    lines = [line.text for line in console.failures(_results(failed("asgi"), failed("socket")))]
    assert "  check_traversal_refused [asgi, socket]" in lines
    assert "    events" in lines
    assert (
        "    Failing test case: check_traversal_refused(stream_client=asgi, name='../x',)" in lines
    )


def test_the_page_says_first_what_kept_the_checks_from_running_and_the_command_as_it_ran() -> None:
    made = report.to_json(
        "node s.js --port {port}", _results(), command="node s.js --port 41591",
        setup_error="--target-command: node exited with status 1",
    )  # fmt: skip
    validate(made)
    page = html_report.render([made])
    assert "<title>streamspec conformance report: node s.js --port 41591</title>" in page
    assert page.index("the checks could not run: --target-command: node exited") < page.index(
        "<h2>Targets"
    )
