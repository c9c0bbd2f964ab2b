"""What a client adapter prints: one JSON object a line, on standard output, as it happens.

A client under test is driven through an *adapter*, a command given to the
suite with ``--client-command``, in which ``{url}`` is replaced by the URL of
one replayed stream and ``{python}`` by the suite's interpreter. The adapter
opens that URL with the client, once, and prints one JSON object per line,
flushed as soon as the client hands it over:

``{"client": "httpx-sse 0.4.3", "observes": ["retry"]}``
    optional, first: the client's name and version, and what it can show
    beyond events (``"retry"``: the reconnection times it accepted;
    ``"reconnect"``: it reconnects, and the adapter lets it, see below);
``{"event": {"type": "add", "data": "x", "lastEventId": "1"}}``
    an event the client dispatched: its type, its data, and the last event
    id it holds (the value it would send in ``Last-Event-ID``);
``{"retry": 2500}``
    a reconnection time the client accepted, before the event it came with;
``{"failed": "why"}``
    the client refused the response or failed the connection;
``{"end": "closed"}``
    the stream ended and the client said so.

Then the adapter exits. It must not add checks of its own: what it prints
is what the client did. The URL's query parameter ``types`` lists the event
types the case can dispatch, for clients that must subscribe to each type by
name (``EventSource.addEventListener``); other clients ignore it.

Reconnecting. Unless the URL has the query parameter ``reconnect=1``, the
adapter must not let its client reconnect: it closes the client when the
client reports the stream's end (an ``EventSource``'s first ``error``), and
prints ``{"end": ...}``. With ``reconnect=1`` (the client chapter's
reconnection cases), an adapter that declared ``"reconnect"`` lets the
client reconnect as it would, on its own timer and with its own
``Last-Event-ID``, printing the events of every connection in order, and
prints ``{"failed": ...}`` or ``{"end": ...}`` only when the client stops
for good (an ``EventSource`` whose ``readyState`` is ``CLOSED``), then
exits; the suite may stop it before that (it reads the server's request
log, not the adapter, for the reconnections). An adapter of a client that
does not reconnect (one request a stream, like httpx-sse's) does not declare
``"reconnect"``, and the rules about reconnecting are not applicable to it.

Any other line is a protocol error, reported as such, never taken as an event.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from spec.sse import MessageEvent, RetryChange

OBSERVABLE = frozenset({"retry", "reconnect"})
"""What an adapter may say it observes, beyond events, failures and the end."""


@dataclass(frozen=True)
class Hello:
    """The client's name and what it can show."""

    client: str
    observes: frozenset[str]


@dataclass(frozen=True)
class Failed:
    """The client failed the connection, for *reason*."""

    reason: str


@dataclass(frozen=True)
class Ended:
    """The client saw the stream end."""

    how: str


Said = Hello | MessageEvent | RetryChange | Failed | Ended


class ProtocolError(ValueError):
    """A line that is not one of the protocol's objects."""


def parse(line: str) -> Said:
    """The object one adapter line stands for; :class:`ProtocolError` if it stands for none."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise ProtocolError(f"not JSON: {line!r} ({error})") from None
    if not isinstance(value, dict) or len(value) not in (1, 2):
        raise ProtocolError(f"not a protocol object: {line!r}")
    if "client" in value:
        observes = value.get("observes", [])
        if not isinstance(value["client"], str) or not isinstance(observes, list):
            raise ProtocolError(f"bad client line: {line!r}")
        return Hello(value["client"], frozenset(str(item) for item in observes) & OBSERVABLE)
    if len(value) != 1:
        raise ProtocolError(f"not a protocol object: {line!r}")
    ((key, body),) = value.items()
    if key == "event" and isinstance(body, dict):
        fields = (body.get("type"), body.get("data"), body.get("lastEventId"))
        if not all(isinstance(field, str) for field in fields) or len(body) != 3:
            raise ProtocolError(f"an event needs string type, data and lastEventId: {line!r}")
        return MessageEvent(*fields)  # type: ignore[arg-type]
    if key == "retry" and isinstance(body, int) and not isinstance(body, bool):
        return RetryChange(body)
    if key == "failed" and isinstance(body, str):
        return Failed(body)
    if key == "end" and isinstance(body, str):
        return Ended(body)
    raise ProtocolError(f"not a protocol object: {line!r}")


class Emitter:
    """The adapter's side in Python: print protocol lines, flushed one by one."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._out = out

    def _say(self, value: object) -> None:
        self._out.write(json.dumps(value, ensure_ascii=True) + "\n")
        self._out.flush()

    def hello(self, client: str, observes: Iterable[str] = ()) -> None:
        self._say({"client": client, "observes": sorted(observes)})

    def event(self, type: str, data: str, last_event_id: str) -> None:
        self._say({"event": {"type": type, "data": data, "lastEventId": last_event_id}})

    def retry(self, milliseconds: int) -> None:
        self._say({"retry": milliseconds})

    def failed(self, reason: str) -> None:
        self._say({"failed": reason})

    def end(self, how: str = "closed") -> None:
        self._say({"end": how})
