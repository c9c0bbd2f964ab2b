"""The event a server sends, before it is encoded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """One Server-Sent Event as the server means it.

    Every event is dispatched by the client, even one whose ``data`` is empty.

    Attributes:
        data: the payload; any text, line breaks included (they are carried as
            several ``data:`` lines and rejoined with LF by the client).
        event: the event type; ``None`` or ``""`` means the default ``message``.
        id: the event id the client remembers and sends back as
            ``Last-Event-ID`` when it reconnects; ``None`` leaves the client's
            last id as it was, ``""`` resets it.
        retry: the reconnection time in milliseconds the client should use.
        comment: a comment written before the fields; the client ignores it.
    """

    data: str = ""
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None
