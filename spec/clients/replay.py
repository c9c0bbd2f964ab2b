"""The replay server: an ASGI app that sends each registered case, as written, to a client.

A run of a case is registered first (:meth:`Replay.register`), which gives it
a path of its own. The app answers a GET of that path with the case's status
and Content-Type, then each of its ``bytes`` steps as one body message, and at
each :class:`~spec.clients.cases.Hold` waits until the suite releases the hold
(the client has dispatched enough events) or the hold's window passes; it
records which. Every request of a run is logged (:class:`Request`: when it
arrived, its ``Last-Event-ID``), and so is when each response ended: the
client chapter's reconnection rules are judged on that log. A later request
for the same run (a client reconnecting) is answered with the case's next
reply (:meth:`~spec.clients.cases.Case.reply`), and past them with 204 No
Content, which tells an ``EventSource`` to stop. A *dropped* reply ends by
raising once its body is sent, so that the server closes the connection
without the last chunk: the network error a client must reconnect after. Any
other path is 404.

Written by hand: the server's whole job is to send exactly the case's bytes in
exactly the case's messages, and a framework's response classes promise
neither (they add charsets, buffer, or frame on their own).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio.to_thread

from spec.clients.cases import HOLD_WINDOW, Case, Hold, Reply
from spec.patience import within
from spec.targets.asgi_types import Receive, Scope, Send

PREFIX = "/replay/"


class Dropped(Exception):
    """Raised by the replay app to drop a connection mid-body (a dropped reply)."""


class _QuietDrops(logging.Filter):
    """Keep the server's error log free of the drops the replay makes on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], Dropped))


def _quiet_drops() -> None:
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(each, _QuietDrops) for each in server_log.filters):
        server_log.addFilter(_QuietDrops())


@dataclass(frozen=True)
class Request:
    """A request of a run, as the server received it.

    *at* is when it arrived (``time.monotonic()``, the suite's clock);
    *last_event_id* its ``Last-Event-ID`` header, ``None`` without one.
    """

    at: float
    last_event_id: str | None


@dataclass
class Run:
    """One case, replayed, and what the server saw of it.

    ``in_time[i]`` is ``True`` when hold *i* was released by the client's
    events, ``False`` when its window ran out first, ``None`` if the response
    never reached it. ``log`` holds each request in order and ``ended[n]``
    when the response to request *n + 1* ended (its last byte sent, or its
    connection dropped); :meth:`wait_for` waits on both, from any thread.
    """

    case: Case
    releases: list[threading.Event]
    in_time: list[bool | None]
    log: list[Request] = field(default_factory=list)
    ended: list[float | None] = field(default_factory=list)
    sent_whole: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _closed: bool = False

    @classmethod
    def of(cls, case: Case) -> Run:
        count = len(case.holds)
        return cls(case, [threading.Event() for _ in range(count)], [None] * count)

    @property
    def requests(self) -> int:
        return len(self.log)

    def arrived(self, last_event_id: str | None) -> int:
        """Log a request; its number (1 for the first)."""
        with self._changed:
            self.log.append(Request(time.monotonic(), last_event_id))
            self.ended.append(None)
            self._changed.notify_all()
            return len(self.log)

    def end(self, number: int) -> None:
        """Note that the response to request *number* has ended."""
        with self._changed:
            self.ended[number - 1] = time.monotonic()
            self._changed.notify_all()

    def wait_for(self, *, requests: int = 0, ended: int = 0) -> bool:
        """Block until *requests* requests arrived and the response to request *ended*
        ended; ``False`` if the run was closed first (:meth:`close`)."""

        def done() -> bool:
            answered = ended == 0 or (
                len(self.ended) >= ended and self.ended[ended - 1] is not None
            )
            return self._closed or (len(self.log) >= requests and answered)

        with self._changed:
            self._changed.wait_for(done)
            return not self._closed or done()

    def close(self) -> None:
        """Wake every :meth:`wait_for`, for good: the run is over."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class Replay:
    """The ASGI app, and the table of runs it serves (shared with the suite's thread)."""

    def __init__(self, *, hold_window: float = HOLD_WINDOW) -> None:
        self.hold_window = hold_window
        _quiet_drops()
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def register(self, case: Case) -> tuple[str, Run]:
        """Serve *case* once at the returned path (``/replay/<token>``)."""
        token = secrets.token_urlsafe(12)
        run = Run.of(case)
        with self._lock:
            self._runs[token] = run
        return PREFIX + token, run

    def forget(self, path: str) -> None:
        with self._lock:
            self._runs.pop(path.removeprefix(PREFIX), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        with self._lock:
            run = self._runs.get(str(scope["path"]).removeprefix(PREFIX))
        if run is None:
            await _empty(send, 404)
            return
        number = run.arrived(_last_event_id(scope))
        try:
            if number == 1:
                await self._replay(run, send)
            else:
                await _reply(run.case.reply(number), send)
        finally:
            run.end(number)

    async def _replay(self, run: Run, send: Send) -> None:
        case = run.case
        await send(_start(case.first))
        hold_number = 0
        for step in case.steps:
            if isinstance(step, Hold):
                release = run.releases[hold_number]
                # A load-aware window: on a busy machine it stretches instead of
                # sending on before a correct client had the time to dispatch.
                waited = await within(self.hold_window, partial(_released, release), verdict=False)
                run.in_time[hold_number] = waited.arrived
                hold_number += 1
            else:
                await send({"type": "http.response.body", "body": step, "more_body": True})
        if case.dropped:
            raise Dropped(case.name)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        run.sent_whole.set()


def _last_event_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == b"last-event-id":
            return bytes(value).decode("utf-8", "replace")
    return None


def _start(reply: Reply) -> dict[str, Any]:
    headers = [(b"cache-control", b"no-store")]
    if reply.content_type is not None:
        headers.append((b"content-type", reply.content_type.encode("latin-1")))
    return {"type": "http.response.start", "status": reply.status, "headers": headers}


async def _reply(reply: Reply, send: Send) -> None:
    await send(_start(reply))
    for step in reply.steps:
        await send({"type": "http.response.body", "body": step, "more_body": True})
    if reply.dropped:
        raise Dropped("a dropped reply")
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _released(release: threading.Event) -> bool:
    """Wait in a worker thread until *release* is set (the thread is let go on cancel)."""
    return await anyio.to_thread.run_sync(release.wait, abandon_on_cancel=True)


async def _empty(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
