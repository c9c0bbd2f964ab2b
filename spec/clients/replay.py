"""The replay server: an ASGI app that sends each registered case, as written, to a client.

A run of a case is registered first (:meth:`Replay.register`), which gives it
a path of its own. The app answers a GET of that path with the case's status
and Content-Type, then each of its ``bytes`` steps as one body message, and at
each :class:`~spec.clients.cases.Hold` waits until the suite releases the hold
(the client has dispatched enough events) or the hold's window passes; it
records which. A later request for the same run (a client reconnecting, which
an adapter must not do) is counted and answered 204 No Content, which tells an
``EventSource`` to stop. Any other path is 404.

Written by hand: the server's whole job is to send exactly the case's bytes in
exactly the case's messages, and a framework's response classes promise
neither (they add charsets, buffer, or frame on their own).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio.to_thread

from spec.clients.cases import HOLD_WINDOW, Case, Hold
from spec.patience import within
from spec.targets.asgi_types import Receive, Scope, Send

PREFIX = "/replay/"


@dataclass
class Run:
    """One case, replayed once, and what the server saw of it.

    ``in_time[i]`` is ``True`` when hold *i* was released by the client's
    events, ``False`` when its window ran out first, ``None`` if the response
    never reached it.
    """

    case: Case
    releases: list[threading.Event]
    in_time: list[bool | None]
    requests: int = 0
    sent_whole: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def of(cls, case: Case) -> Run:
        count = len(case.holds)
        return cls(case, [threading.Event() for _ in range(count)], [None] * count)


class Replay:
    """The ASGI app, and the table of runs it serves (shared with the suite's thread)."""

    def __init__(self, *, hold_window: float = HOLD_WINDOW) -> None:
        self.hold_window = hold_window
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
            if run is not None:
                run.requests += 1
                first = run.requests == 1
        if run is None:
            await _empty(send, 404)
        elif not first:
            await _empty(send, 204)
        else:
            await self._replay(run, send)

    async def _replay(self, run: Run, send: Send) -> None:
        case = run.case
        headers = [(b"cache-control", b"no-store")]
        if case.content_type is not None:
            headers.append((b"content-type", case.content_type.encode("latin-1")))
        await send({"type": "http.response.start", "status": case.status, "headers": headers})
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
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        run.sent_whole.set()


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
