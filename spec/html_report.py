"""Render rule reports as one self-contained HTML page: a table of rules by targets.

The input is one or more reports in their JSON form (:func:`spec.report.to_json`);
one report gives a page for one target, several give the matrix. The page has
no script and no external asset (styles are inline), so it can be mailed,
archived or opened from disk. What it shows, top to bottom:

* the targets: their kind, declared capabilities and totals;
* the matrix: one row a rule (ID, level, statement), one column a target,
  each cell the rule's result on that target;
* the failures: for each target and failing rule, each failing check with what
  was expected, what was seen and the minimal example hypothesis found;
* the rules that could not be judged, with the reasons the checks gave.

Written by hand with :mod:`html` escaping: the page is small and fixed, and a
template engine would be a dependency for twenty lines of markup.
"""

from __future__ import annotations

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
"""

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


def _matrix(reports: Sequence[dict[str, Any]]) -> str:
    by_target = [_results_by_target(report) for report in reports]
    head = "".join(f"<th>{escape(_label(report))}</th>" for report in reports)
    rows = []
    for rule in _rules(reports):
        cells = []
        for results in by_target:
            entry = results.get(rule["id"])
            result = entry["result"] if entry else NOT_RUN
            shown = label(result, baselined=bool(entry and entry.get("baselined")))
            cells.append(
                f'<td class="result {_css_class(result)}" title="{escape(_MEANING[result])}">'
                f"{escape(shown)}</td>"
            )
        rows.append(
            f'<tr id="{escape(rule["id"])}"><th>{escape(rule["id"])}</th>'
            f"<td>{escape(rule['level'])}</td>"
            f'<td class="statement">{escape(rule["statement"])}</td>{"".join(cells)}</tr>'
        )
    return (
        '<table class="matrix"><thead><tr><th>rule</th><th>level</th><th>statement</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _failures(reports: Sequence[dict[str, Any]]) -> str:
    parts = []
    for report in reports:
        for rule in report["rules"]:
            if rule["result"] != FAIL:
                continue
            baselined = f" ({BASELINED})" if rule.get("baselined") else ""
            parts.append(
                f'<section class="failure"><h3>{escape(_label(report))}: '
                f"{escape(rule['id'])} ({escape(rule['level'])}){baselined}</h3>"
                f"<p>{escape(rule['statement'])} {_source(rule)}</p>"
            )
            for check in rule["checks"]:
                if check["outcome"] == FAIL:
                    parts.append(_failed_check(check))
            parts.append("</section>")
    if not parts:
        return "<p>No rule failed.</p>"
    return "".join(parts)


def _source(rule: dict[str, Any]) -> str:
    """The rule's source, linked when it has an absolute URL."""
    text = f"<em>{escape(rule['source'])}</em>"
    url = str(rule.get("source_url", ""))
    if url.startswith(("https://", "http://")):
        return f'<a href="{escape(url)}">{text}</a>'
    return text


def _failed_check(check: dict[str, Any]) -> str:
    out = [f"<h4>{escape(check['nodeid'])}</h4>"]
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
    out.append(
        f"<details><summary>the whole message</summary><pre>{escape(check['message'])}</pre>"
        "</details>"
    )
    return "".join(out)


def _unjudged(reports: Sequence[dict[str, Any]]) -> str:
    items = []
    for report in reports:
        for rule in report["rules"]:
            if rule["result"] not in (PARTIAL, UNOBSERVED, INAPPLICABLE):
                continue
            reasons = sorted(
                {c["message"] for c in rule["checks"] if c["outcome"] != PASS and c["message"]}
            )
            items.append(
                f"<li>{escape(_label(report))}: <strong>{escape(rule['id'])}</strong> "
                f"{escape(label(rule['result']))}: {escape('; '.join(reasons))}</li>"
            )
    if not items:
        return "<p>Every rule that ran was judged.</p>"
    return f"<ul>{''.join(items)}</ul>"


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
        + f"<h2>Targets</h2>{_targets(reports)}"
        f"<h2>Rules</h2>{_matrix(reports)}"
        f'<p class="legend">{legend}</p>'
        f"<h2>Failures</h2>{_failures(reports)}"
        f"<h2>Not judged</h2>{_unjudged(reports)}"
        "</body></html>\n"
    )


def write(
    path: Path, reports: Sequence[dict[str, Any]], *, title: str | None = None, note: str = ""
) -> None:
    """Write :func:`render` of *reports* to *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(reports, title=title, note=note), encoding="utf-8")
