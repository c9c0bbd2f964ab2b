"""A replayed case: the bytes a client is sent, where the server pauses, and what must come out.

A case's *steps* are sent in order over one response: each ``bytes`` step is
one body message (one HTTP chunk, flushed), and a :class:`Hold` sends nothing
more until the client has dispatched that many events in all, so the bytes
before the hold are all the client can have read. A hold ends early when the
client dispatches in time, or after :data:`HOLD_WINDOW` seconds: the window
only bounds the wait for an event that may never come (a client that keeps a
complete event back until more bytes arrive); it decides no timing question,
and it is load-aware (:func:`spec.patience.within`): it stretches while the
machine is too busy to run the client promptly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from spec.media import EVENT_STREAM
from spec.sse import MessageEvent

F = TypeVar("F", bound=Callable[..., object])

HOLD_WINDOW = 3.0
"""Seconds a hold waits for the client's events before the server sends on."""


@dataclass(frozen=True)
class Hold:
    """Send nothing more until the client has dispatched *events* events in all."""

    events: int


Step = bytes | Hold


@dataclass(frozen=True)
class Case:
    """One response replayed to the client, and what a conforming client makes of it.

    *expected* are the events it dispatches, in order; *retries* the
    reconnection times it accepts (checked only for clients that show them);
    *fails* says that it must fail the connection and dispatch nothing.
    """

    name: str
    steps: tuple[Step, ...]
    expected: tuple[MessageEvent, ...] = ()
    retries: tuple[int, ...] = ()
    status: int = 200
    content_type: str | None = EVENT_STREAM
    fails: bool = False

    @property
    def body(self) -> bytes:
        """Every byte of the response body, the steps joined."""
        return b"".join(step for step in self.steps if isinstance(step, bytes))

    @property
    def holds(self) -> list[Hold]:
        return [step for step in self.steps if isinstance(step, Hold)]

    @property
    def types(self) -> list[str]:
        """The event types the case can dispatch: ``message`` and each expected type."""
        return sorted({"message", *(event.type for event in self.expected)})


def case(
    name: str,
    *steps: Step,
    expected: Sequence[MessageEvent] = (),
    retries: Sequence[int] = (),
    status: int = 200,
    content_type: str | None = EVENT_STREAM,
    fails: bool = False,
) -> Case:
    """A :class:`Case`, written as the steps in a row (the form the chapter reads best in)."""
    return Case(
        name,
        tuple(steps),
        tuple(expected),
        tuple(retries),
        status=status,
        content_type=content_type,
        fails=fails,
    )


def _literal(data: bytes) -> str:
    return "`" + repr(data)[2:-1].replace("`", "\\x60") + "`"


def _event(event: MessageEvent) -> str:
    text = f"{event.type} {event.data!r}"
    return text + (f" (id {event.last_event_id!r})" if event.last_event_id else "")


def describe(replayed: Case) -> str:
    """*replayed* in one line of Markdown: the response, and what a client makes of it."""
    steps = " ".join(
        f"⏸ {step.events}" if isinstance(step, Hold) else _literal(step) for step in replayed.steps
    )
    response = []
    if replayed.status != 200:
        response.append(f"status {replayed.status}")
    if replayed.content_type != EVENT_STREAM:
        label = "none" if replayed.content_type is None else f"`{replayed.content_type}`"
        response.append(f"Content-Type {label}")
    head = f"({', '.join(response)}) " if response else ""
    if replayed.fails:
        outcome = "fails the connection and dispatches nothing"
    elif replayed.expected:
        outcome = "dispatches " + ", ".join(_event(event) for event in replayed.expected)
    else:
        outcome = "dispatches nothing"
    if replayed.retries:
        outcome += ", and sets the reconnection time to " + ", ".join(
            f"{ms} ms" for ms in replayed.retries
        )
    return f"Replays {head}{steps or 'an empty body'}: a client {outcome}."


def replays(replayed: Case) -> Callable[[F], F]:
    """Add :func:`describe` of *replayed* to a check's docstring, for the rendered spec.

    Put it under the ``@RULE.check`` decorator, which reads the docstring.
    """

    def document(function: F) -> F:
        doc = inspect.cleandoc(function.__doc__ or "")
        function.__doc__ = f"{doc}\n\n{describe(replayed)}"
        return function

    return document
