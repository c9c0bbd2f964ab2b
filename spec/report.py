"""Turn check outcomes into a verdict for each rule, as a table and as JSON.

A rule's result is:

* ``fail`` when any of its checks failed;
* ``pass`` when every check that ran passed and none was left unobserved;
* ``partial`` when some checks passed and the others could not be observed;
* ``not observable`` or ``not applicable`` when no check could judge it, with
  the reason the checks gave;
* ``not run`` when no check of it was selected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.rules import CLIENT, DECODER, NOT_APPLICABLE, NOT_OBSERVABLE, TARGET, Rule

PASS, FAIL, PARTIAL, UNOBSERVED, INAPPLICABLE, NOT_RUN = (
    "pass",
    "fail",
    "partial",
    NOT_OBSERVABLE,
    NOT_APPLICABLE,
    "not run",
)


_EXAMPLE_MARKERS = ("Failing test case:", "Falsifying example:")


ABOUT_TARGET, ABOUT_DECODER, ABOUT_CLIENT = TARGET, DECODER, CLIENT
"""What a rule's checks judge (:attr:`spec.rules.Rule.subject`)."""

RESULTS = (PASS, FAIL, PARTIAL, UNOBSERVED, INAPPLICABLE, NOT_RUN)
"""Every result a rule can come to, in the order summaries list them."""


@dataclass(frozen=True)
class CheckOutcome:
    """What one collected check (one pytest item) came to.

    Attributes:
        message: the failure (or the reason it could not judge), whole.
        expected, seen: for a rule violation, what was expected and what was seen.
        example: for a property check, the minimal failing example hypothesis found.
    """

    nodeid: str
    outcome: str
    message: str = ""
    expected: str = ""
    seen: str = ""
    example: str = ""


def hypothesis_example(message: str) -> str:
    """The minimal failing example hypothesis printed into *message*, or ``""``."""
    for marker in _EXAMPLE_MARKERS:
        start = message.find(marker)
        if start >= 0:
            return message[start:].strip()
    return ""


@dataclass
class RuleResult:
    rule: Rule
    checks: list[CheckOutcome] = field(default_factory=list)

    @property
    def result(self) -> str:
        outcomes = {check.outcome for check in self.checks}
        if not outcomes:
            return NOT_RUN
        if FAIL in outcomes:
            return FAIL
        if outcomes == {PASS}:
            return PASS
        if PASS in outcomes:
            return PARTIAL
        if outcomes == {INAPPLICABLE}:
            return INAPPLICABLE
        return UNOBSERVED

    @property
    def reasons(self) -> list[str]:
        """The distinct messages of the checks that did not pass, in order."""
        seen: dict[str, None] = {}
        for check in self.checks:
            if check.outcome != PASS and check.message:
                seen.setdefault(check.message, None)
        return list(seen)


def classify_skip(reason: str) -> str:
    """The outcome a skipped check stands for, from the reason it gave."""
    for outcome in (NOT_OBSERVABLE, NOT_APPLICABLE):
        if reason.startswith(outcome):
            return outcome
    return UNOBSERVED


def summarise(rules: Iterable[Rule], outcomes: dict[str, list[CheckOutcome]]) -> list[RuleResult]:
    """One result per rule, in the rules' order."""
    return [RuleResult(rule, outcomes.get(rule.id, [])) for rule in rules]


def table(results: list[RuleResult], *, width: int = 100) -> list[str]:
    """A plain-text table, one line a rule, then the totals."""
    wide = max([14, *(len(entry.rule.id) for entry in results)])
    lines = [f"{'rule':<{wide}} {'level':<6} {'result':<15} {'checks':>7}  statement"]
    for entry in results:
        passed = sum(1 for check in entry.checks if check.outcome == PASS)
        counts = f"{passed}/{len(entry.checks)}"
        head = f"{entry.rule.id:<{wide}} {entry.rule.level:<6} {entry.result:<15} {counts:>7}  "
        statement = entry.rule.statement
        room = max(width - len(head), 20)
        if len(statement) > room:
            statement = statement[: room - 1] + "…"
        lines.append(head + statement)
    tally = totals(results)
    lines.append(", ".join(f"{tally[key]} {key}" for key in RESULTS if key in tally))
    return lines


def totals(results: list[RuleResult]) -> dict[str, int]:
    """How many rules came to each result."""
    counts: dict[str, int] = {}
    for entry in results:
        counts[entry.result] = counts.get(entry.result, 0) + 1
    return counts


def to_json(
    target: str,
    results: list[RuleResult],
    *,
    kind: str = "",
    capabilities: dict[str, bool] | None = None,
) -> dict[str, Any]:
    """The report as a JSON-ready dict (the schema is documented in the README).

    Each rule's ``about`` says what its checks judge (:data:`ABOUT_TARGET`,
    :data:`ABOUT_DECODER` or :data:`ABOUT_CLIENT`).
    """
    return {
        "target": target,
        "kind": kind,
        "capabilities": capabilities,
        "totals": totals(results),
        "rules": [
            {
                "id": entry.rule.id,
                "level": str(entry.rule.level),
                "statement": entry.rule.statement,
                "source": str(entry.rule.source),
                "source_url": entry.rule.source.url,
                "chapter": entry.rule.chapter,
                "about": entry.rule.subject,
                "result": entry.result,
                "checks": [
                    {
                        "nodeid": c.nodeid,
                        "outcome": c.outcome,
                        "message": c.message,
                        "expected": c.expected,
                        "seen": c.seen,
                        "example": c.example,
                    }
                    for c in entry.checks
                ],
            }
            for entry in results
        ],
    }


def write_json(path: Path, report: dict[str, Any]) -> None:
    """Write a report made by :func:`to_json` (or a matrix) to *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
