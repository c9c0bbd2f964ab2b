"""Render rule reports as one self-contained HTML page: a table of rules by targets.

The input is one or more reports in their JSON form (:func:`spec.report.to_json`);
one report gives a page for one target, several give the matrix. The page has
no script and no external asset (styles are inline), so it can be mailed,
archived or opened from disk. What it shows, top to bottom:

* what kept a target's checks from running, if anything did;
* the targets: their kind, declared capabilities and totals;
* the matrix: one row a rule (ID, level, statement), under a row naming its
  chapter, one column a target, each cell the rule's result on that target,
  linked to its failure (or to why it was not judged); ``#failures-only``
  (:data:`FAILURES_ONLY`) shows the rows of the rules some target failed alone;
* the failures: for each target and failing rule, each failure once (a check
  failing alike on several transports names them all) with what was expected,
  what was seen, the minimal example hypothesis found and the ``curl`` command
  that repeats the request;
* the rules that could not be judged, with the reasons the checks gave.

Written by hand with :mod:`html` escaping: the page is small and fixed, and a
template engine would be a dependency for twenty lines of markup.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from html import escape
from pathlib import Path
from typing import Any

from spec.report import (
    BASELINED,
    FAIL,
    INAPPLICABLE,
    NOT_RUN,
    PARTIAL,
    PARTIAL_MEANING,
    PASS,
    RESULTS,
    UNOBSERVED,
    label,
    tally_line,
)

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; } h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #c8c8c8; padding: .3em .6em; vertical-align: top; text-align: left; }
thead th { background: #eee; position: sticky; top: 0; }
tbody th { white-space: nowrap; }
td.result { white-space: nowrap; font-weight: 600; text-align: center; }
.pass { background: #d9f2d9; color: #145214; }
.fail { background: #f9d0d0; color: #8a1010; }
.partial { background: #e6f0d0; color: #3d5214; }
.not-observable { background: #eeeeee; color: #555; }
.not-applicable { background: #f6f6f6; color: #888; }
.not-run { background: #fff; color: #aaa; }
.statement { max-width: 46em; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
.legend span { display: inline-block; padding: .1em .5em; margin-right: .4em; }
td.result a { color: inherit; text-decoration: none; display: block; }
td.result a:hover { text-decoration: underline; }
tr.chapter th { background: #f3f3f3; font-size: 1.05em; padding-top: .6em; }
.views a { margin-right: 1em; }
#failures-only:target ~ table.matrix tr.no-failure,
#failures-only:target ~ .unjudged,
#failures-only:target ~ h2.unjudged { display: none; }
pre.setup-error { background: #f9d0d0; color: #8a1010; }
code.curl { display: block; white-space: pre-wrap; word-break: break-all; }
"""

FAILURES_ONLY = "failures-only"
"""The fragment of the page's failures-only view (``matrix.html#failures-only``): the rows
of the rules that failed on some target, and their failures. CSS alone (``:target``), so
the page keeps no script."""

_MEANING = {
    PASS: "every check passed",
    FAIL: "a check saw the rule broken",
    PARTIAL: f"passed where observable: {PARTIAL_MEANING}; the others could not observe",
    UNOBSERVED: "the target offers nothing the checks could observe",
    INAPPLICABLE: "the target declares it does not serve what the rule is about",
    NOT_RUN: "no check of the rule was selected",
}


def _css_class(result: str) -> str:
    return result.replace(" ", "-")


def _rules(reports: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every rule of every report, once, in the order they first appear."""
    seen: dict[str, dict[str, Any]] = {}
    for report in reports:
        for rule in report["rules"]:
            seen.setdefault(rule["id"], rule)
    return list(seen.values())


def _results_by_target(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in report["rules"]}


CLIENT_KIND = "sse client"
"""The ``kind`` of a report whose target is an SSE client (the client chapter)."""


def _targets(reports: Sequence[dict[str, Any]]) -> str:
    rows = []
    for report in reports:
        declared = report.get("capabilities")
        capabilities = (
            ", ".join(f"{k}: {str(v).lower()}" for k, v in declared.items())
            if declared is not None
            else "(a client declares none)"
            if report.get("kind") == CLIENT_KIND
            else "none declared"
        )
        baselined = sum(1 for rule in report["rules"] if rule.get("baselined"))
        summary = tally_line(report.get("totals", {}), baselined=baselined)
        rows.append(
            f"<tr><th>{escape(_label(report))}</th><td>{escape(report.get('kind', ''))}</td>"
            f"<td>{escape(capabilities)}</td><td>{escape(summary)}</td></tr>"
        )
    return (
        '<table class="targets"><thead><tr><th>target</th><th>kind</th>'
        "<th>declared capabilities</th><th>rules</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _label(report: dict[str, Any]) -> str:
    return str(report.get("label") or report.get("command") or report["target"])


def failure_anchor(index: int, rule_id: str) -> str:
    """The id of the failure of rule *rule_id* on the *index*-th target of the page."""
    return f"fail-{index}-{rule_id}"


def unjudged_anchor(index: int, rule_id: str) -> str:
    """The id of the reasons rule *rule_id* was not judged on the *index*-th target."""
    return f"unjudged-{index}-{rule_id}"


_UNJUDGED = (PARTIAL, UNOBSERVED, INAPPLICABLE)


def _cell(index: int, entry: dict[str, Any] | None) -> str:
    """A result cell, linked to the failure it stands for (or why it was not judged)."""
    result = entry["result"] if entry else NOT_RUN
    shown = escape(label(result, baselined=bool(entry and entry.get("baselined"))))
    if entry and result == FAIL:
        shown = f'<a href="#{failure_anchor(index, entry["id"])}">{shown}</a>'
    elif entry and result in _UNJUDGED:
        shown = f'<a href="#{unjudged_anchor(index, entry["id"])}">{shown}</a>'
    return (
        f'<td class="result {_css_class(result)}" title="{escape(_MEANING[result])}">{shown}</td>'
    )


def _matrix(reports: Sequence[dict[str, Any]]) -> str:
    """One row a rule, under a row naming its chapter; a row no target failed is marked
    ``no-failure`` (hidden in the failures-only view)."""
    by_target = [_results_by_target(report) for report in reports]
    head = "".join(f"<th>{escape(_label(report))}</th>" for report in reports)
    rules = _rules(reports)

    def failed(rule: dict[str, Any]) -> bool:
        return any(
            (entry := results.get(rule["id"])) is not None and entry["result"] == FAIL
            for results in by_target
        )

    failing_chapters = {rule.get("chapter") for rule in rules if failed(rule)}
    rows = []
    chapter = None
    for rule in rules:
        if rule.get("chapter") != chapter:
            chapter = rule.get("chapter")
            marked = "" if chapter in failing_chapters else " no-failure"
            rows.append(
                f'<tr class="chapter{marked}"><th colspan="{3 + len(reports)}">'
                f"{escape(str(chapter or ''))}</th></tr>"
            )
        entries = [results.get(rule["id"]) for results in by_target]
        cells = "".join(_cell(index, entry) for index, entry in enumerate(entries))
        rows.append(
            f'<tr id="{escape(rule["id"])}" class="{"failure" if failed(rule) else "no-failure"}">'
            f"<th>{escape(rule['id'])}</th><td>{escape(rule['level'])}</td>"
            f'<td class="statement">{escape(rule["statement"])}</td>{cells}</tr>'
        )
    return (
        '<table class="matrix"><thead><tr><th>rule</th><th>level</th><th>statement</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


SERVED_BY_THE_SUITE = "asgi app"
"""The kind of target whose curl commands name the port the suite served it on."""


def _failures(reports: Sequence[dict[str, Any]]) -> str:
    parts = []
    for index, report in enumerate(reports):
        where = (
            " (at the port the suite served the app on, gone with the run: serve it "
            "yourself and put its port in)"
            if report.get("kind") == SERVED_BY_THE_SUITE
            else ""
        )
        for rule in report["rules"]:
            if rule["result"] != FAIL:
                continue
            baselined = f" ({BASELINED})" if rule.get("baselined") else ""
            parts.append(
                f'<section class="failure" id="{failure_anchor(index, rule["id"])}">'
                f"<h3>{escape(_label(report))}: "
                f"{escape(rule['id'])} ({escape(rule['level'])}){baselined}</h3>"
                f"<p>{escape(rule['statement'])} {_source(rule)}</p>"
            )
            failed = [check for check in rule["checks"] if check["outcome"] == FAIL]
            parts += [_failed_check(first, names, where) for first, names in by_transport(failed)]
            parts.append("</section>")
    if not parts:
        return "<p>No rule failed.</p>"
    return "".join(parts)


_PARAMETERS = re.compile(r"^(?P<check>.*?)(?:\[(?P<params>[^\]]*)\])?$")


def by_transport(checks: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """*checks* (a rule's failed checks, as the JSON has them), the same failure once: one
    check failing with the same message on several transports (``[asgi]``, ``[socket]``)
    is its first entry, named ``check [asgi, socket]``; a curl command any of them carries
    is kept."""
    groups: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
    for check in checks:
        match = _PARAMETERS.match(str(check["nodeid"]))
        name = match.group("check") if match else str(check["nodeid"])
        params = match.group("params") if match else None
        first, seen_on = groups.setdefault((name, str(check["message"])), (dict(check), []))
        if params:
            seen_on.append(params)
        if check.get("curl") and not first.get("curl"):
            first["curl"] = check["curl"]
    return [
        (first, f"{name} [{', '.join(seen_on)}]" if seen_on else name)
        for (name, _), (first, seen_on) in groups.items()
    ]


def _source(rule: dict[str, Any]) -> str:
    """The rule's source, linked when it has an absolute URL."""
    text = f"<em>{escape(rule['source'])}</em>"
    url = str(rule.get("source_url", ""))
    if url.startswith(("https://", "http://")):
        return f'<a href="{escape(url)}">{text}</a>'
    return text


def _failed_check(check: dict[str, Any], name: str, where: str = "") -> str:
    out = [f"<h4>{escape(name)}</h4>"]
    # A report's expected and seen are JSON values, with their reprs beside (older
    # reports: the reprs alone, as strings).
    expected = check.get("expected_repr", check.get("expected", ""))
    seen = check.get("seen_repr", check.get("seen", ""))
    if expected or seen:
        out.append(
            f"<p>expected:</p><pre>{escape(str(expected))}</pre>"
            f"<p>seen:</p><pre>{escape(str(seen))}</pre>"
        )
    if check.get("example"):
        out.append(f"<p>minimal failing example:</p><pre>{escape(check['example'])}</pre>")
    if check.get("curl"):
        out.append(
            f"<p>repeat the request{escape(where)}:</p>"
            f'<pre><code class="curl">{escape(check["curl"])}</code></pre>'
        )
    out.append(
        f"<details><summary>the whole message</summary><pre>{escape(check['message'])}</pre>"
        "</details>"
    )
    return "".join(out)


def _unjudged(reports: Sequence[dict[str, Any]]) -> str:
    items = []
    for index, report in enumerate(reports):
        for rule in report["rules"]:
            if rule["result"] not in _UNJUDGED:
                continue
            reasons = sorted(
                {c["message"] for c in rule["checks"] if c["outcome"] != PASS and c["message"]}
            )
            items.append(
                f'<li id="{unjudged_anchor(index, rule["id"])}">'
                f"{escape(_label(report))}: <strong>{escape(rule['id'])}</strong> "
                f"{escape(label(rule['result']))}: {escape('; '.join(reasons))}</li>"
            )
    if not items:
        return '<p class="unjudged">Every rule that ran was judged.</p>'
    return f'<ul class="unjudged">{"".join(items)}</ul>'


def only(report: dict[str, Any], rule_ids: Collection[str]) -> dict[str, Any]:
    """*report* with only the rules *rule_ids*, its totals counted again."""
    rules = [rule for rule in report["rules"] if rule["id"] in rule_ids]
    counts: dict[str, int] = {}
    for rule in rules:
        counts[rule["result"]] = counts.get(rule["result"], 0) + 1
    return {**report, "rules": rules, "totals": counts}


def render(reports: Sequence[dict[str, Any]], *, title: str | None = None, note: str = "") -> str:
    """The HTML page for *reports* (one target, or a matrix of several).

    *note*, if given, is a paragraph shown under the title.
    """
    if not reports:
        raise ValueError("no report to render")
    if title is None:
        title = (
            f"streamspec conformance report: {_label(reports[0])}"
            if len(reports) == 1
            else f"streamspec conformance matrix: {len(reports)} targets"
        )
    legend = "".join(
        f'<span class="{_css_class(key)}">{escape(label(key))}</span>: {escape(_MEANING[key])}<br>'
        for key in RESULTS
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        + (f'<p class="note">{escape(note)}</p>' if note else "")
        + "".join(
            f'<pre class="setup-error">{escape(_label(report))}: the checks could not run: '
            f"{escape(str(report['setup_error']))}</pre>"
            for report in reports
            if report.get("setup_error")
        )
        + f"<h2>Targets</h2>{_targets(reports)}"
        f"<h2>Rules</h2>"
        f'<p class="views"><a href="#{FAILURES_ONLY}">failures only</a>'
        '<a href="#">every rule</a></p>'
        f'<span id="{FAILURES_ONLY}"></span>'
        f"{_matrix(reports)}"
        f'<p class="legend">{legend}</p>'
        f"<h2>Failures</h2>{_failures(reports)}"
        f'<h2 class="unjudged">Not judged</h2>{_unjudged(reports)}'
        "</body></html>\n"
    )


def write(
    path: Path, reports: Sequence[dict[str, Any]], *, title: str | None = None, note: str = ""
) -> None:
    """Write :func:`render` of *reports* to *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(reports, title=title, note=note), encoding="utf-8")
