"""Rules: the records a spec is made of, and the link from a rule to its checks.

A :class:`Rule` has a stable ID, a level (MUST or SHOULD), one sentence of
requirement and the section of the document it comes from. A check is a pytest
function decorated with :meth:`Rule.check`; the decorator marks it with the
rule's ID (so the report can tell which rule a failure breaks) and lists it
under the rule (so the rendered spec shows how the rule is verified).

Checks report a broken rule with :func:`expect`, which prints what was expected
beside what was seen, and report what they cannot judge with
:func:`not_observable` and :func:`not_applicable`, never by passing.
"""

from __future__ import annotations

import enum
import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import pytest

_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z]+)*-\d{2}$")

NOT_OBSERVABLE = "not observable"
NOT_APPLICABLE = "not applicable"

F = TypeVar("F", bound=Callable[..., Any])


class Level(enum.StrEnum):
    """How binding a rule is, in the sense of RFC 2119."""

    MUST = "MUST"
    SHOULD = "SHOULD"


MUST = Level.MUST
SHOULD = Level.SHOULD

TARGET, DECODER, CLIENT = "target", "decoder", "client"
"""What a chapter's rules judge: the target (a server), an SSE decoder (``--decoder``)
or an SSE client (``--client-command``). A report shows a target's rules, and the
others only when the run names a decoder or a client under test."""


@dataclass(frozen=True)
class Source:
    """The document and section a rule is drawn from."""

    document: str
    section: str
    url: str

    def __str__(self) -> str:
        return f"{self.document}, {self.section}"


@dataclass(frozen=True)
class Check:
    """A check as the rendered spec lists it: its function name and docstring."""

    name: str
    doc: str
    module: str


@dataclass(eq=False)
class Rule:
    """One requirement, declared through :meth:`Chapter.rule`.

    The ID is stable: once published it names the same requirement for good.
    *why*, when set, says what goes wrong in practice when the rule is broken (a
    browser's behaviour, a proxy's, a client library's), for a rule whose statement
    does not say it. *beyond_source* marks a rule its source does not require (the
    source describes the mechanism, practice asks for it); its *why* is then why
    streamspec does, and it must have one.
    """

    id: str
    level: Level
    statement: str
    source: Source
    chapter: str
    subject: str = TARGET
    why: str = ""
    beyond_source: bool = False
    checks: list[Check] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"rule ID {self.id!r} is not of the form CHAPTER-PART-NN")
        if self.beyond_source and not self.why:
            raise ValueError(f"{self.id} goes beyond its source and must say why")
        if self.id in REGISTRY:
            raise ValueError(f"rule ID {self.id} is declared twice")
        REGISTRY[self.id] = self

    def check(self, function: F) -> F:
        """Declare *function* a check of this rule (a decorator)."""
        doc = inspect.getdoc(function)
        if not doc:
            raise ValueError(f"check {function.__name__} of {self.id} needs a docstring")
        self.checks.append(Check(function.__name__, doc, function.__module__))
        marked: F = pytest.mark.rule(self.id)(function)
        return marked

    def __str__(self) -> str:
        return f"{self.id} ({self.level}): {self.statement}"


REGISTRY: dict[str, Rule] = {}
"""Every rule declared so far, by ID, in declaration order."""


def chapter_title(module: str) -> str:
    """The title of the chapter declared in *module*: its docstring's first line, without
    the final full stop (``"File download"``); the module's name if it has none."""
    loaded = sys.modules.get(module)
    lines = ((inspect.getdoc(loaded) if loaded is not None else None) or "").splitlines()
    return lines[0].rstrip(".") if lines and lines[0].strip() else module


@dataclass(frozen=True)
class Chapter:
    """The rules of one chapter module: ``chapter = Chapter(__name__)``.

    *subject* is what the chapter's rules judge (:data:`TARGET`, :data:`DECODER`
    or :data:`CLIENT`).
    """

    module: str
    subject: str = TARGET

    def rule(
        self,
        rule_id: str,
        level: Level,
        statement: str,
        source: Source,
        *,
        why: str = "",
        beyond_source: bool = False,
    ) -> Rule:
        """Declare a rule of this chapter; *why* says what goes wrong when it is broken,
        and, with *beyond_source* (its source does not require it), why streamspec does."""
        return Rule(
            rule_id, level, statement, source, self.module, self.subject, why, beyond_source
        )

    def rules(self) -> list[Rule]:
        """The rules of this chapter, in the order they were declared."""
        return [rule for rule in REGISTRY.values() if rule.chapter == self.module]


class RuleViolation(AssertionError):
    """A check saw something its rule forbids."""

    def __init__(self, what: str, expected: object, seen: object) -> None:
        self.what = what
        self.expected = expected
        self.seen = seen
        super().__init__(f"{what}\n  expected: {expected!r}\n  seen:     {seen!r}")


def expect(seen: object, expected: object, what: str) -> None:
    """Raise :class:`RuleViolation` unless *seen* equals *expected*.

    *what* names the thing compared, for a person reading the failure.
    """
    if seen != expected:
        raise RuleViolation(what, expected, seen)


def violation(what: str, expected: object, seen: object) -> NoReturn:
    """Raise :class:`RuleViolation` for a failure that is not an equality."""
    raise RuleViolation(what, expected, seen)


def not_observable(reason: str) -> NoReturn:
    """End the check: the target does not offer what it needs to see (never a pass)."""
    pytest.skip(f"{NOT_OBSERVABLE}: {reason}")


def not_applicable(reason: str) -> NoReturn:
    """End the check: the rule does not apply to this target (never a pass)."""
    pytest.skip(f"{NOT_APPLICABLE}: {reason}")
