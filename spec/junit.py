"""The rule report as JUnit XML, for CI systems that show test results: one testcase a rule.

Made from the report's JSON form (:func:`spec.report.to_json`), like the HTML
page. pytest's own ``--junitxml`` has one testcase a *check* (a pytest item);
this file has one a *rule*:

* ``classname`` is the rule's chapter (its title), ``name`` its ID;
* ``<properties>``: the rule's level, source and result, then one ``check:NODEID``
  property a check, whose value is the check's outcome;
* a failing rule has a ``<failure>`` whose message is its statement and whose
  text gives each failing check's expected and seen values (or its message);
* a rule the baseline expects to fail, one not observable, not applicable or
  not run is ``<skipped>``, with the reason;
* a stale baseline entry of a passing rule is a ``<failure>`` too: the run fails
  on it.

Characters XML 1.0 cannot carry (NUL and other controls, which a check of a
hostile path may well print) are written as ``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from spec.baseline import stale_message
from spec.report import FAIL, INAPPLICABLE, NOT_RUN, PASS, UNOBSERVED, label

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    """*value* as text XML 1.0 can carry."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", str(value))


def _element(parent: ET.Element, tag: str, **attributes: object) -> ET.Element:
    return ET.SubElement(parent, tag, {key: _text(value) for key, value in attributes.items()})


def _failure_text(rule: dict[str, Any], *, baselined: bool | None = None) -> str:
    """Each failing check (of the baseline's or not, as *baselined* says): its node id,
    then its expected and seen values, or its message."""
    parts = []
    for check in rule["checks"]:
        if check["outcome"] != FAIL:
            continue
        if baselined is not None and bool(check.get("baselined")) != baselined:
            continue
        lines = [check["nodeid"]]
        if "expected_repr" in check or "expected" in check:
            expected = check.get("expected_repr", check.get("expected"))
            seen = check.get("seen_repr", check.get("seen"))
            lines += [f"  expected: {expected}", f"  seen:     {seen}"]
        if check.get("example"):
            lines.append("  " + str(check["example"]).replace("\n", "\n  "))
        if len(lines) == 1:
            lines.append("  " + str(check["message"]).replace("\n", "\n  "))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _reasons(rule: dict[str, Any]) -> str:
    """The distinct messages of the checks that did not pass (each ``not applicable: ...``
    or ``not observable: ...``), or the rule's result when there are none."""
    reasons = dict.fromkeys(
        check["message"] for check in rule["checks"] if check["outcome"] != PASS
    )
    return "; ".join(reason for reason in reasons if reason) or rule["result"]


def testcase(parent: ET.Element, rule: dict[str, Any], stale: list[str]) -> ET.Element:
    """The ``<testcase>`` of one rule of a JSON report; *stale*: the messages of the
    baseline's stale entries about it."""
    case = _element(parent, "testcase", classname=rule["chapter"], name=rule["id"])
    properties = _element(case, "properties")
    for name in ("level", "source", "result"):
        _element(properties, "property", name=name, value=rule[name])
    for check in rule["checks"]:
        _element(properties, "property", name=f"check:{check['nodeid']}", value=check["outcome"])
    result = rule["result"]
    if result == FAIL and not rule.get("baselined"):
        failure = _element(case, "failure", message=rule["statement"], type=rule["level"])
        failure.text = _text(_failure_text(rule, baselined=False) or _reasons(rule))
    elif result == FAIL:
        skipped = _element(case, "skipped", message=label(FAIL, baselined=True), type="baselined")
        skipped.text = _text(_failure_text(rule))
    elif stale:
        failure = _element(case, "failure", message="; ".join(stale), type="stale baseline")
        failure.text = _text("\n".join(stale))
    elif result in (UNOBSERVED, INAPPLICABLE, NOT_RUN):
        _element(case, "skipped", message=_reasons(rule), type=result)
    return case


def render(report: dict[str, Any]) -> str:
    """The JUnit XML document of a JSON report (a string, with its XML declaration)."""
    baseline = report.get("baseline") or {}
    stale_of: dict[str, list[str]] = {}
    for stale in baseline.get("stale", []):
        entry = str(stale["entry"])
        message = stale_message(str(baseline.get("path")), entry, int(stale["line"]))
        for rule in report["rules"]:
            if entry == rule["id"] or any(
                check["nodeid"] == entry or check["nodeid"].startswith(entry + "[")
                for check in rule["checks"]
            ):
                stale_of.setdefault(rule["id"], []).append(message)
    root = ET.Element("testsuites", name="streamspec")
    suite = _element(
        root,
        "testsuite",
        name=f"streamspec: {report['target']}",
        timestamp=report.get("started", ""),
        time=report.get("duration_seconds", 0),
    )
    properties = _element(suite, "properties")
    tool = report.get("tool", {})
    hypothesis = report.get("hypothesis") or {}
    for name, value in (
        ("target", report["target"]),
        ("kind", report.get("kind", "")),
        ("streamspec", tool.get("version", "")),
        ("hypothesis.profile", hypothesis.get("profile", "")),
        ("hypothesis.seed", hypothesis.get("seed")),
    ):
        if value not in (None, ""):
            _element(properties, "property", name=name, value=value)
    cases = [testcase(suite, rule, stale_of.get(rule["id"], [])) for rule in report["rules"]]
    failures = sum(1 for case in cases if case.find("failure") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    for element in (root, suite):
        element.set("tests", str(len(cases)))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(path: Path, report: dict[str, Any]) -> None:
    """Write :func:`render` of *report* to *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
