"""Turn check outcomes into a verdict for each rule, as a table and as JSON.

A rule's result is:

* ``fail`` when any of its checks failed;
* ``pass`` when every check that ran passed and none was left unobserved;
* ``partial`` when some checks passed and the others could not be observed (shown as
  ``pass*``, :data:`LABELS`: nothing failed, but not everything could be seen);
* ``not observable`` or ``not applicable`` when no check could judge it, with
  the reason the checks gave;
* ``not run`` when no check of it was selected.
"""

from __future__ import annotations

import json
import math
import re
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from hypothesis import settings

from spec.rules import CLIENT, DECODER, NOT_APPLICABLE, NOT_OBSERVABLE, TARGET, Rule, chapter_title

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

LABELS = {PARTIAL: "pass*"}
"""How a result is shown to a person where it is not its own name (tables, pages, the
matrix): ``partial`` is a pass of every check that could observe, not a partial failure.
The JSON reports keep the result's name."""

PARTIAL_MEANING = "every check that could observe passed"
"""What :data:`PARTIAL` (shown ``pass*``) means, for legends (the others could not observe)."""

BASELINED = "baselined"
"""The mark of a failing rule the run's ``--baseline`` expects to fail."""


def label(result: str, *, baselined: bool = False) -> str:
    """*result* as a person reads it: ``pass*`` for :data:`PARTIAL`, ``fail (baselined)``."""
    shown = LABELS.get(result, result)
    return f"{shown} ({BASELINED})" if baselined else shown


@dataclass(frozen=True)
class CheckOutcome:
    """What one collected check (one pytest item) came to.

    Attributes:
        message: the failure (or the reason it could not judge), whole.
        expected, seen: for a rule violation, the repr of what was expected and of what
            was seen (``""`` for any other outcome).
        example: for a property check, the minimal failing example hypothesis found.
        expected_value, seen_value: for a rule violation, the values themselves.
        baselined: a failure the run's ``--baseline`` expects.
        curl: for a failure, the ``curl`` command that repeats the check's last request on
            the wire (:mod:`spec.repeat`), or ``""``.
    """

    nodeid: str
    outcome: str
    message: str = ""
    expected: str = ""
    seen: str = ""
    example: str = ""
    expected_value: object = field(default=None, compare=False)
    seen_value: object = field(default=None, compare=False)
    baselined: bool = False
    curl: str = ""

    @property
    def violation(self) -> bool:
        """Whether the check failed with a :class:`spec.rules.RuleViolation` (a repr is
        never empty)."""
        return bool(self.expected or self.seen)


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
    def baselined(self) -> bool:
        """Whether the rule failed and every failing check of it is baselined."""
        failed = [check for check in self.checks if check.outcome == FAIL]
        return bool(failed) and all(check.baselined for check in failed)

    @property
    def label(self) -> str:
        """The result as :func:`label` shows it."""
        return label(self.result, baselined=self.baselined)

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


NARROWEST_COLUMN = 40
"""The narrowest statement column :func:`table` wraps in; on a narrower terminal each
statement is written under its row."""


def table(results: list[RuleResult], *, width: int = 100, ran_only: bool = False) -> list[str]:
    """A plain-text table, one row a rule, its statement wrapped (never cut) in the last
    column (or under the row, on a terminal too narrow for the column), then the totals,
    and what ``pass*`` means when a rule came to it.

    *ran_only*: only the rules some check of which ran (those ``--rules`` selected); the
    totals still count every rule.
    """
    shown = [entry for entry in results if not ran_only or entry.result != NOT_RUN]
    wide = max([14, *(len(entry.rule.id) for entry in shown)])
    column = max([14, *(len(entry.label) for entry in shown)]) + 1
    lines = [f"{'rule':<{wide}} {'level':<6} {'result':<{column}} {'checks':>7}  statement"]
    for entry in shown:
        passed = sum(1 for check in entry.checks if check.outcome == PASS)
        counts = f"{passed}/{len(entry.checks)}"
        head = (
            f"{entry.rule.id:<{wide}} {entry.rule.level:<6} {entry.label:<{column}} {counts:>7}  "
        )
        room = width - len(head)
        if room >= NARROWEST_COLUMN:
            wrapped = textwrap.wrap(entry.rule.statement, room, break_on_hyphens=False) or [""]
            lines.append(head + wrapped[0])
            lines += [" " * len(head) + more for more in wrapped[1:]]
        else:
            # Too narrow a column: the statement goes under its row, the whole width wide.
            lines.append(head.rstrip())
            lines += textwrap.wrap(
                entry.rule.statement, max(width, 40), initial_indent="    ",
                subsequent_indent="    ", break_on_hyphens=False,
            )  # fmt: skip
    lines.append(tally_line(totals(results), baselined=sum(e.baselined for e in results)))
    partial = [entry for entry in results if entry.result == PARTIAL]
    if partial:
        unobserved = sum(1 for e in partial for check in e.checks if check.outcome != PASS)
        lines.append(
            f"{label(PARTIAL)}: {PARTIAL_MEANING}; {unobserved} "
            f"{'check' if unobserved == 1 else 'checks'} of {len(partial)} "
            f"{'rule' if len(partial) == 1 else 'rules'} could not observe"
        )
    return lines


def tally_line(counts: dict[str, int], *, baselined: int = 0) -> str:
    """``"88 pass, 2 fail (1 baselined), 1 pass*"``: how many rules came to each result."""
    parts = []
    for key in RESULTS:
        if counts.get(key):
            part = f"{counts[key]} {label(key)}"
            if key == FAIL and baselined:
                part += f" ({baselined} {BASELINED})"
            parts.append(part)
    return ", ".join(parts)


def totals(results: list[RuleResult]) -> dict[str, int]:
    """How many rules came to each result."""
    counts: dict[str, int] = {}
    for entry in results:
        counts[entry.result] = counts.get(entry.result, 0) + 1
    return counts


SCHEMA = Path(__file__).with_name("report.schema.json")
"""The JSON Schema (draft 2020-12) of the report :func:`to_json` makes."""

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+(?=>)")


def without_addresses(text: str) -> str:
    """*text* without the memory addresses of default reprs: ``<object object at 0x7f..>``
    becomes ``<object object>``, the same from one run to the next."""
    return _ADDRESS.sub("", text)


class _NotJson(Exception):
    pass


def json_value(value: object) -> tuple[bool, Any]:
    """``(True, value as JSON)`` if *value* is made of JSON's types (``None``, ``bool``,
    ``int``, finite ``float``, ``str``, lists and tuples of them, dicts of them by ``str``
    keys), else ``(False, None)``. A tuple becomes a list, a ``str`` or ``int`` subclass
    (an enum) its plain value."""
    try:
        return True, _as_json(value, 0)
    except _NotJson:
        return False, None


def _as_json(value: object, depth: int) -> Any:
    if depth > 50:
        raise _NotJson
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotJson
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list | tuple):
        return [_as_json(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise _NotJson
        return {str.__str__(key): _as_json(item, depth + 1) for key, item in value.items()}
    raise _NotJson


def tool_version() -> str:
    """The installed ``streamspec`` distribution's version, else the package's
    ``__version__``, else ``"unknown"``."""
    try:
        return metadata.version("streamspec")
    except metadata.PackageNotFoundError:
        package = sys.modules.get(__package__ or "")
        return str(getattr(package, "__version__", "unknown"))


def hypothesis_run(seed: object = None) -> dict[str, Any]:
    """The hypothesis settings in use: the profile, the seed given (``--hypothesis-seed``;
    ``None``: each property draws its own, or derives it from its name when derandomized),
    ``derandomize`` and ``max_examples``."""
    current = settings()
    if isinstance(seed, str):
        seed = int(seed) if seed.lstrip("-").isdigit() else seed
    return {
        "profile": settings.get_current_profile_name(),
        "seed": seed,
        "derandomize": bool(current.derandomize),
        "max_examples": int(current.max_examples),
    }


def iso_utc(moment: datetime) -> str:
    """*moment* in ISO 8601, UTC, to the millisecond: ``2026-12-02T06:15:41.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json(
    target: str,
    results: list[RuleResult],
    *,
    kind: str = "",
    capabilities: dict[str, bool] | None = None,
    started: datetime | None = None,
    duration: float = 0.0,
    hypothesis: dict[str, Any] | None = None,
    baseline: dict[str, Any] | None = None,
    server: dict[str, str] | None = None,
    command: str = "",
    setup_error: str = "",
) -> dict[str, Any]:
    """The report as a JSON-ready dict, as ``spec/report.schema.json`` (:data:`SCHEMA`)
    describes it.

    Each rule's ``about`` says what its checks judge (:data:`ABOUT_TARGET`,
    :data:`ABOUT_DECODER` or :data:`ABOUT_CLIENT`). *started* is when the run began
    (default: now), *duration* how long it took in seconds, *hypothesis* the settings
    in use (default: :func:`hypothesis_run`), *baseline* the run's ``--baseline``,
    *server* the server an ASGI target was served with (``{"name", "version"}``),
    *command* a command target as it ran (its ``{port}`` filled in), *setup_error* what
    kept the checks from running.
    """
    extra: dict[str, Any] = {}
    if command:
        extra["command"] = command
    if setup_error:
        extra["setup_error"] = setup_error
    return {
        "tool": {"name": "streamspec", "version": tool_version()},
        "started": iso_utc(started or datetime.now(UTC)),
        "duration_seconds": round(duration, 3),
        "hypothesis": hypothesis if hypothesis is not None else hypothesis_run(),
        "target": target,
        "kind": kind,
        "server": server,
        "capabilities": capabilities,
        "baseline": baseline,
        "totals": totals(results),
        "rules": [
            {
                "id": entry.rule.id,
                "level": str(entry.rule.level),
                "statement": entry.rule.statement,
                "source": str(entry.rule.source),
                "source_url": entry.rule.source.url,
                "chapter": chapter_title(entry.rule.chapter),
                "chapter_module": entry.rule.chapter,
                "about": entry.rule.subject,
                "result": entry.result,
                "baselined": entry.baselined,
                "checks": [_check_json(check) for check in entry.checks],
            }
            for entry in results
        ],
        **extra,
    }


def _check_json(check: CheckOutcome) -> dict[str, Any]:
    """A check's entry: for a violation, ``expected`` and ``seen`` as JSON values where
    they are JSON (else their repr, as ``expected_repr`` and ``seen_repr`` always are)."""
    out: dict[str, Any] = {
        "nodeid": check.nodeid,
        "outcome": check.outcome,
        "message": without_addresses(check.message),
    }
    if check.violation:
        for key, value, shown in (
            ("expected", check.expected_value, check.expected),
            ("seen", check.seen_value, check.seen),
        ):
            is_json, as_json = json_value(value)
            out[key] = as_json if is_json else without_addresses(shown)
            out[f"{key}_repr"] = without_addresses(shown)
    out["example"] = without_addresses(check.example)
    out["baselined"] = check.baselined
    if check.curl:
        out["curl"] = check.curl
    return out


def write_json(path: Path, report: dict[str, Any]) -> None:
    """Write a report made by :func:`to_json` (or a matrix) to *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
