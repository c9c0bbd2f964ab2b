"""What a conforming client sees for a list of events: the model servers are compared with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spec.sse.decoder import Comment, Dispatched, MessageEvent, RetryChange
from spec.sse.encoder import split_lines
from spec.sse.event import Event


@dataclass(frozen=True)
class Observed:
    """A decoded stream seen three ways; each is in stream order.

    Comments and retry fields are compared apart from the events because a
    server may write an event's fields in any order.
    """

    events: tuple[MessageEvent, ...]
    retries: tuple[int, ...]
    comments: tuple[str, ...]

    @classmethod
    def of(cls, items: Iterable[Dispatched]) -> Observed:
        items = list(items)
        return cls(
            events=tuple(i for i in items if isinstance(i, MessageEvent)),
            retries=tuple(i.milliseconds for i in items if isinstance(i, RetryChange)),
            comments=tuple(i.text for i in items if isinstance(i, Comment)),
        )


def as_dispatched(data: str) -> str:
    """*data* as a client dispatches it: CR and CRLF line ends become LF."""
    return "\n".join(split_lines(data))


def expected_observation(events: Sequence[Event]) -> Observed:
    """What a WHATWG client dispatches when *events* are encoded correctly.

    Data line ends become LF (the algorithm rejoins lines with LF); the last
    event id carries over events without an id; an empty type is ``message``.
    """
    dispatched: list[Dispatched] = []
    last_event_id = ""
    for event in events:
        if event.comment is not None:
            dispatched.extend(Comment(line) for line in split_lines(event.comment))
        if event.retry is not None:
            dispatched.append(RetryChange(event.retry))
        if event.id is not None:
            last_event_id = event.id
        data = as_dispatched(event.data)
        dispatched.append(MessageEvent(event.event or "message", data, last_event_id))
    return Observed.of(dispatched)
