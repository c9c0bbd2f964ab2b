"""The rule report as a person reads it in a terminal, failures first.

What the plugin prints at the end of a run, top to bottom:

1. what kept the checks from running, or from running as meant
   (:func:`setup_notices`): a target that could not be started or reached, a
   target that declares no capabilities (a ``404`` means it has no conformance
   surface: the surface chapter says what to add);
2. each failing rule once (:func:`failures`): its ID, level and statement, its
   source, then each distinct failure of its checks once, with the transports
   it was seen on, what was expected and what was seen, and for a check on the
   wire the ``curl`` command that repeats its last request;
3. the table of the rules that ran (:func:`spec.report.table`, ``ran_only``).

Every failure is bounded (:data:`MESSAGE_LINES` lines of :data:`LINE_CHARS`
characters, :data:`FAILURES_SHOWN` failures a rule), so a failing run's report
fits on a few screens whatever the target did; the JSON report keeps every
message whole, and pytest's own tracebacks are one option away.

Pure: lines in, lines out; the plugin writes them.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

from spec.capabilities import Capabilities
from spec.render import OUTPUT as SPEC_README
from spec.report import FAIL, CheckOutcome, RuleResult, hypothesis_example, without_addresses

SURFACE_CHAPTER = f"{SPEC_README}#surface"
"""Where the conformance surface is described: the spec's surface chapter."""

MESSAGE_LINES = 12
LINE_CHARS = 400
FAILURES_SHOWN = 2

FAILED, WARNING, PLAIN = "failed", "warning", ""
"""A line's style: the plugin draws ``failed`` in red, ``warning`` in yellow."""


@dataclass(frozen=True)
class Line:
    text: str
    style: str = PLAIN


@dataclass
class Failure:
    """One failure of a rule's checks, as shown: a check's name and message, and the
    transports (the node id's parameters) on which it failed so."""

    check: str
    message: str
    params: list[str] = field(default_factory=list)
    curl: str = ""


def setup_notices(
    *,
    setup_error: str = "",
    capabilities: Capabilities | None = None,
    prefix: str = "",
    width: int = 100,
) -> list[Line]:
    """What kept the checks from running (*setup_error*), or from running as meant (no
    capability declaration), with what to do about it; wrapped to *width*."""
    lines = _notices(setup_error, capabilities, prefix)
    wrapped: list[Line] = []
    for line in lines:
        indent = " " * (len(line.text) - len(line.text.lstrip(" ")))
        parts = textwrap.wrap(
            line.text, max(width, 40), subsequent_indent=indent, break_on_hyphens=False,
            break_long_words=False,
        ) or [""]  # fmt: skip
        wrapped += [Line(part, line.style) for part in parts]
    return wrapped


def _notices(setup_error: str, capabilities: Capabilities | None, prefix: str) -> list[Line]:
    lines: list[Line] = []
    if setup_error:
        lines.append(Line("the checks could not run:", FAILED))
        lines += [Line("    " + text, FAILED) for text in setup_error.splitlines()]
    if capabilities is not None and capabilities.declared is None:
        where = f"{prefix}/conformance/capabilities"
        if capabilities.problem == "status 404":
            lines.append(
                Line(
                    f"GET {where} answered 404: the target exposes no conformance surface"
                    + (" below this prefix" if prefix else "")
                    + ", so every check of a stream fails or cannot observe.",
                    WARNING,
                )
            )
            lines.append(
                Line(
                    "    Add the surface's endpoints beside your routes (for a Python "
                    "ASGI app, wrap its streams in streamspec.kit.Kit), or name the base "
                    "path it lives under (--prefix, in pytest --target-prefix); the "
                    f"surface chapter says what each endpoint does: {SURFACE_CHAPTER}",
                    WARNING,
                )
            )
        else:
            lines.append(
                Line(
                    f"GET {where}: no usable declaration ({capabilities.problem}); the target "
                    f"is held to every stream rule. The surface chapter says what it "
                    f"declares: {SURFACE_CHAPTER}",
                    WARNING,
                )
            )
    return lines


def failures(results: Iterable[RuleResult], *, width: int = 100, served_at: str = "") -> list[Line]:
    """One block a failing rule (a baselined one in a line), each failure once.

    *served_at*: how the suite served the target for this run, when the port its curl
    commands name is the suite's own (an ASGI app on the wire), said once after them.
    """
    lines: list[Line] = []
    for entry in results:
        if entry.result != FAIL:
            continue
        rule = entry.rule
        if entry.baselined:
            lines.append(Line(f"{rule.id} ({rule.level}): {entry.label}, as expected", WARNING))
            continue
        lines.append(Line(""))
        head = f"{rule.id} {rule.level} failed: {rule.statement}"
        wrapped = textwrap.wrap(head, max(width, 40), subsequent_indent="    ")
        lines += [Line(text, FAILED) for text in wrapped]
        lines.append(Line(f"    source: {rule.source}"))
        grouped = group(check for check in entry.checks if check.outcome == FAIL)
        for failure in grouped[:FAILURES_SHOWN]:
            lines += _failure_lines(failure)
        if len(grouped) > FAILURES_SHOWN:
            more = len(grouped) - FAILURES_SHOWN
            lines.append(
                Line(f"  and {more} more failure{'s' if more > 1 else ''} (the JSON report)")
            )
    if served_at and any(line.text.startswith("    repeat: curl ") for line in lines):
        lines.append(Line(""))
        lines += [
            Line(text)
            for text in textwrap.wrap(
                f"The curl commands name the port the suite served the app on ({served_at}), "
                "gone with the run: serve the app yourself and put its port in their place.",
                max(width, 40),
            )
        ]
    return lines


_PARAMS = re.compile(r"^(?P<check>[^\[]*)(?:\[(?P<params>.*)\])?$")


def group(checks: Iterable[CheckOutcome]) -> list[Failure]:
    """*checks*' failures, one a check and message: the same check failing with the same
    message on several transports (``check_x[asgi]``, ``check_x[socket]``) is one
    failure that names both."""
    found: dict[tuple[str, str], Failure] = {}
    for check in checks:
        match = _PARAMS.match(check.nodeid.rsplit("::", 1)[-1])
        name = match.group("check") if match else check.nodeid
        params = match.group("params") if match else None
        message = without_addresses(check.message)
        failure = found.setdefault((name, _before_example(message)), Failure(name, message))
        if params:
            failure.params.append(params)
        failure.curl = failure.curl or check.curl
    return list(found.values())


_EXCEPTION_PREFIX = re.compile(r"^(?:[\w.]+\.)?RuleViolation: ")


def _before_example(message: str) -> str:
    """*message* without hypothesis' failing example (which names each transport's client)."""
    example = hypothesis_example(message)
    return message[: message.index(example)] if example else message


def _failure_lines(failure: Failure) -> list[Line]:
    on = f" [{', '.join(failure.params)}]" if failure.params else ""
    lines = [Line(f"  {failure.check}{on}")]
    example = hypothesis_example(failure.message)
    text = _EXCEPTION_PREFIX.sub("", _before_example(failure.message).strip())
    shown = text.splitlines() or ["(no message)"]
    if example:
        # One line: the call with its arguments, as hypothesis printed it, spaces collapsed.
        shown.append(" ".join(example.split()).replace("( ", "(").replace(" )", ")"))
    for line in shown[:MESSAGE_LINES]:
        lines.append(Line("    " + _cut(line[2:] if line.startswith("  ") else line)))
    if len(shown) > MESSAGE_LINES:
        lines.append(Line(f"    ... {len(shown) - MESSAGE_LINES} more lines (the JSON report)"))
    if failure.curl:
        lines.append(Line("    repeat: " + failure.curl))
    return lines


def _cut(line: str) -> str:
    if len(line) <= LINE_CHARS:
        return line
    return f"{line[:LINE_CHARS]}... ({len(line) - LINE_CHARS} more characters)"
