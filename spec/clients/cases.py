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

A *reconnection case* (``reconnections`` given, maybe empty) lets the client
reconnect as it would: the server answers its later requests with the case's
``then`` replies, in order, and every request past them with 204 No Content,
which stops an ``EventSource`` for good. ``reconnections`` says what a
conforming client does after the first response: one :class:`Reconnection`
per later request it makes (no sooner than the reconnection time, with the
``Last-Event-ID`` it must carry), after which it stops.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from spec.media import EVENT_STREAM, essence
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
class Reply:
    """A response to a later request of the same run (a reconnection).

    *dropped*: the server closes the connection before the body's end (no
    last chunk), which a client sees as a network error.
    """

    steps: tuple[bytes, ...] = ()
    status: int = 200
    content_type: str | None = EVENT_STREAM
    dropped: bool = False

    @property
    def body(self) -> bytes:
        return b"".join(self.steps)

    @property
    def stops(self) -> bool:
        """Whether a conforming client fails the connection on it, and so never reconnects."""
        return self.status != 200 or essence(self.content_type) != EVENT_STREAM


NO_CONTENT = Reply(status=204, content_type=None)
"""The answer to every request past a run's replies: 204 tells an ``EventSource`` to stop."""


@dataclass(frozen=True)
class Reconnection:
    """A request a conforming client makes after a response ended.

    It comes no sooner than *after_ms* milliseconds (the reconnection time in
    effect) after the end of the response before it, and carries
    ``Last-Event-ID: last_event_id``, or no such header when that is ``None``.
    """

    after_ms: int
    last_event_id: str | None = None


@dataclass(frozen=True)
class Case:
    """One response replayed to the client, and what a conforming client makes of it.

    *expected* are the events it dispatches, in order; *retries* the
    reconnection times it accepts (checked only for clients that show them);
    *fails* says that it must fail the connection and dispatch nothing;
    *dropped* that the server drops the connection before the body's end. A
    reconnection case (*reconnections* not ``None``) also has the *then*
    replies and the :class:`Reconnection` requests of a conforming client.
    """

    name: str
    steps: tuple[Step, ...]
    expected: tuple[MessageEvent, ...] = ()
    retries: tuple[int, ...] = ()
    status: int = 200
    content_type: str | None = EVENT_STREAM
    fails: bool = False
    dropped: bool = False
    then: tuple[Reply, ...] = ()
    reconnections: tuple[Reconnection, ...] | None = None

    @property
    def body(self) -> bytes:
        """Every byte of the response body, the steps joined."""
        return b"".join(step for step in self.steps if isinstance(step, bytes))

    @property
    def reconnects(self) -> bool:
        """Whether the client is let reconnect (a reconnection case)."""
        return self.reconnections is not None

    @property
    def first(self) -> Reply:
        """The first response, as a :class:`Reply` (its holds left out)."""
        steps = tuple(step for step in self.steps if isinstance(step, bytes))
        return Reply(steps, self.status, self.content_type, self.dropped)

    def reply(self, number: int) -> Reply:
        """The response to request *number* of the run (1 is the first)."""
        if number == 1:
            return self.first
        return self.then[number - 2] if number - 2 < len(self.then) else NO_CONTENT

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
    dropped: bool = False,
    then: Sequence[Reply] = (),
    reconnections: Sequence[Reconnection] | None = None,
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
        dropped=dropped,
        then=tuple(then),
        reconnections=None if reconnections is None else tuple(reconnections),
    )


def _literal(data: bytes) -> str:
    return "`" + repr(data)[2:-1].replace("`", "\\x60") + "`"


def _event(event: MessageEvent) -> str:
    text = f"{event.type} {event.data!r}"
    return text + (f" (id {event.last_event_id!r})" if event.last_event_id else "")


def _response(reply: Reply) -> str:
    head = []
    if reply.status != 200:
        head.append(f"status {reply.status}")
    if reply.content_type != EVENT_STREAM:
        head.append(
            "Content-Type none" if reply.content_type is None else f"`{reply.content_type}`"
        )
    body = " ".join(_literal(step) for step in reply.steps) or "an empty body"
    end = ", the connection dropped before the body's end" if reply.dropped else ""
    return (f"({', '.join(head)}) " if head else "") + body + end


def _reconnection(number: int, request: Reconnection) -> str:
    header = (
        "no `Last-Event-ID`"
        if request.last_event_id is None
        else f"`Last-Event-ID: {request.last_event_id}`"
    )
    after = f"at least {request.after_ms} ms after response {number - 1} ended"
    return f"request {number} {after}, with {header}"


def describe_reconnection(replayed: Case) -> str:
    """A reconnection case in Markdown: each response in turn, and the requests a client makes."""
    assert replayed.reconnections is not None
    replies = [replayed.reply(number) for number in range(1, len(replayed.reconnections) + 2)]
    served = "; then ".join(
        f"response {number}: {_response(reply)}" for number, reply in enumerate(replies, 1)
    )
    requests = [
        _reconnection(number, request) for number, request in enumerate(replayed.reconnections, 2)
    ]
    outcome = "makes " + ("; ".join(requests) if requests else "no request after the first")
    return f"Serves {served}. A client {outcome}, and then stops."


def describe(replayed: Case) -> str:
    """*replayed* in one line of Markdown: the response, and what a client makes of it."""
    if replayed.reconnects:
        return describe_reconnection(replayed)
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
