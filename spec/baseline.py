"""The expected-failures baseline (``--baseline=FILE``): failures known, not forgotten.

The file lists one rule ID (``SSE-ENC-07``) or one check's node id
(``spec/chapters/sse_encoding.py::check_ids_are_refused[socket]``, or without
the ``[...]`` for every transport; only the chapter's file name counts of its path, so
``sse_encoding.py::check_ids_are_refused`` names it too) a line; ``#`` starts a comment. A failing
check that an entry covers does not fail the run: the plugin reports it to
pytest as an expected failure (xfail), and the rule report marks it
``baselined``. An entry that covers checks which pass now, and none that
fails, is *stale*: it fails the run, by name, so the baseline shrinks as
fixes land. An entry that names no rule, or no check of one, is a usage error.

Why an xfail rather than an exit status rewritten at the end: pytest's own
accounting then agrees with the rule report (its summary line says
``xfailed``, ``-x``/``--maxfail`` do not stop on a known failure, its own
``--junitxml`` skips the check, the exit status follows), and no count of
failures has to be recomputed. Only staleness, which depends on every check of
the run, is decided at the session's end (``pytest_sessionfinish``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spec.report import FAIL, PASS, RuleResult
from spec.rules import Rule


class BaselineError(ValueError):
    """The baseline cannot be read, or one of its entries names nothing."""


@dataclass(frozen=True)
class Entry:
    """One line of the baseline: a rule ID, or a check's node id (its rule in :attr:`rule`)."""

    text: str
    line: int
    rule: str

    @property
    def is_check(self) -> bool:
        return "::" in self.text

    def covers(self, nodeid: str, rule_id: str) -> bool:
        """Whether this entry covers the check *nodeid*, of the rule *rule_id*."""
        if self.is_check:
            given, seen = check_key(self.text), check_key(nodeid)
            return seen == given or seen.startswith(given + "[")
        return rule_id == self.text


def check_key(nodeid: str) -> str:
    """*nodeid* from its chapter's file name on (``file.py::check_x[socket]``): the same
    check in a checkout (``spec/chapters/file.py::...``), installed
    (``streamspec/chapters/file.py::...``) and in a project's own pytest run, whose node ids
    start from that project's directory."""
    path, sep, rest = nodeid.partition("::")
    return Path(path).name + sep + rest


@dataclass(frozen=True)
class Baseline:
    path: str
    entries: tuple[Entry, ...]

    def entry_for(self, nodeid: str, rule_id: str) -> Entry | None:
        """The first entry that covers the check *nodeid*, or ``None``."""
        return next((entry for entry in self.entries if entry.covers(nodeid, rule_id)), None)

    def where(self, entry: Entry) -> str:
        return f"{self.path}, line {entry.line}"

    def stale_message(self, entry: Entry) -> str:
        return stale_message(self.path, entry.text, entry.line)

    def check_collected(self, nodeids: Iterable[str]) -> None:
        """Raise :class:`BaselineError` for a check entry whose module was collected but
        that covers none of its checks (a misspelt parameter)."""
        collected = list(nodeids)
        for entry in self.entries:
            if not entry.is_check:
                continue
            module = check_key(entry.text).split("::", 1)[0] + "::"
            same_module = [nodeid for nodeid in collected if check_key(nodeid).startswith(module)]
            if same_module and not any(entry.covers(n, entry.rule) for n in same_module):
                function = entry.text.split("::")[-1].split("[", 1)[0]
                like = [n for n in same_module if n.split("::")[-1].startswith(function)]
                raise BaselineError(
                    f"{self.where(entry)}: {entry.text!r} is no check of this run"
                    + (f"; its checks are {', '.join(like)}" if like else "")
                )

    def stale(self, results: Iterable[RuleResult]) -> list[Entry]:
        """The entries that cover a check that passed and none that failed."""
        checks = [(entry.rule.id, check) for entry in results for check in entry.checks]
        stale = []
        for entry in self.entries:
            outcomes = {c.outcome for rule_id, c in checks if entry.covers(c.nodeid, rule_id)}
            if PASS in outcomes and FAIL not in outcomes:
                stale.append(entry)
        return stale

    def as_json(self, stale: Iterable[Entry]) -> dict[str, Any]:
        """The baseline as the JSON report shows it: its file, entries and stale entries."""
        return {
            "path": self.path,
            "entries": [entry.text for entry in self.entries],
            "stale": [{"entry": entry.text, "line": entry.line} for entry in stale],
        }


def stale_message(path: str, entry: str, line: int) -> str:
    """What the run says of a stale *entry* (at *line* of the baseline *path*)."""
    return (
        f"stale baseline entry {entry} ({path}, line {line}): it passes now; "
        "remove it from the baseline"
    )


def load(path: Path, rules: Mapping[str, Rule]) -> Baseline:
    """Read the baseline at *path*; every entry must name a rule of *rules*, or a check
    of one (:class:`BaselineError` otherwise)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"the baseline {path} cannot be read: {error}") from error
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        rule = _rule_of(line, rules)
        if rule is None:
            what = "no check of any rule" if "::" in line else "no rule"
            raise BaselineError(f"{path}, line {number}: {line!r} names {what}")
        entries.append(Entry(line, number, rule))
    return Baseline(str(path), tuple(entries))


def _rule_of(line: str, rules: Mapping[str, Rule]) -> str | None:
    """The ID of the rule *line* names, or of the rule whose check it names."""
    if "::" not in line:
        return line if line in rules else None
    path, _, rest = line.partition("::")
    function = rest.split("::")[-1].split("[", 1)[0]
    chapter = Path(path).stem
    for rule in rules.values():
        for check in rule.checks:
            if check.name == function and check.module.rpartition(".")[2] == chapter:
                return rule.id
    return None
