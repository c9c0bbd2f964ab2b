"""The reference app's EventSource page in a real headless Chromium, and the checks on it.

``run_page`` serves an app with uvicorn on loopback, wrapped in a
:class:`Recorder` that notes, for every ``/events`` request, the
``Last-Event-ID`` it carried, when it arrived, its status, the bytes sent back
and when the response ended (taken just before its last message is passed on,
so before the browser can know). The page (``GET /events/page``) is loaded in
Chromium, driven by Playwright, until it settles: the source is CLOSED, or it
has shown more events or opened more connections than the stream has, which
only a broken server makes it do. The table the page shows is then read from
its DOM.

The ``check_*`` functions raise :class:`AssertionError` with what was expected
and what was seen; ``tests/test_eventsource_page_fails.py`` calls them on
broken servers and a broken page to show that each can fail.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from spec.feeding import decode
from spec.sse import Decoder, MessageEvent
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send
from spec.targets.server import serve
from tests import browser

PAGE_PATH = "/events/page"
STREAM_PATH = "/events"
#: A hang guard only: the page settles in about a second.
SETTLE_GUARD_MS = 30_000
#: Where the screenshot of the page is kept (``reports/`` is not committed).
SCREENSHOT = Path(__file__).resolve().parent.parent / "reports" / "browser" / "eventsource.png"

# The page has settled when the source is CLOSED, or when it has shown more
# events or opened more connections than a correct stream gives it.
_SETTLED = """([rows, opens]) =>
    document.getElementById("state").dataset.readyState === "2"
    || document.querySelectorAll("#events tbody tr").length > rows
    || Number(document.getElementById("opens").textContent) > opens"""

_TABLE = """rows => rows.map(row => Array.from(row.cells, cell => cell.textContent))"""


@dataclass
class Exchange:
    """One ``/events`` request as the server saw it (times from ``time.monotonic``)."""

    last_event_id: str | None
    started: float
    status: int | None = None
    body: bytearray = field(default_factory=bytearray)
    ended: float | None = None


class Recorder:
    """ASGI middleware that records every ``/events`` exchange, and changes nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []

    @property
    def exchanges(self) -> list[Exchange]:
        """The exchanges so far, in the order their requests arrived."""
        with self._lock:
            return list(self._exchanges)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != STREAM_PATH:
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        raw = headers.get(b"last-event-id")
        exchange = Exchange(None if raw is None else raw.decode("latin-1"), time.monotonic())
        with self._lock:
            self._exchanges.append(exchange)

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
            elif message["type"] == "http.response.body":
                exchange.body += message.get("body", b"")
                if not message.get("more_body", False):
                    exchange.ended = time.monotonic()
            await send(message)

        await self.app(scope, receive, recording)


@dataclass(frozen=True)
class Shown:
    """One row of the page's table: an event as the browser dispatched it."""

    type: str
    id: str
    data: str


@dataclass(frozen=True)
class Run:
    """What one page load came to.

    Attributes:
        shown: the rows of the page's table, in order.
        state: the page's state text; ``ready_state`` the source's readyState.
        exchanges: the ``/events`` exchanges when the page settled.
        later: the exchanges after a quiet window past that (``None`` if not waited for).
    """

    shown: list[Shown]
    state: str
    ready_state: int
    exchanges: list[Exchange]
    later: list[Exchange] | None


@contextmanager
def launched() -> Iterator[Any]:
    """A headless Chromium (Debian's, never a download) driven by Playwright; skips without one."""
    executable = browser.chromium()
    if executable is None:
        pytest.skip("not run: no chromium on PATH (CI installs Debian's chromium in .ci/run)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="not run: playwright missing (the `browser` extra)"
    )
    # The flags of the client matrix's Chromium adapter (imported once playwright is known).
    from peers.clients.chromium import FLAGS  # noqa: PLC0415

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def run_page(
    chromium: Any,
    app: ASGIApp,
    *,
    events: int,
    connections: int,
    keep_open: bool = False,
    quiet_ms: int | None = None,
    screenshot: Path | None = None,
) -> Run:
    """Load the page against *app* until it settles; see the module docstring.

    *events* and *connections* are what a correct stream gives the page (the
    page has settled once it shows more). *quiet_ms*: after the page settled,
    wait that long and record the exchanges again, to see that no request
    followed (an observation window: too short a window can only miss a
    request, never invent one).
    """
    recorder = Recorder(app)
    with serve(recorder) as base:
        context = chromium.new_context()
        try:
            page = context.new_page()
            page.goto(f"{base}{PAGE_PATH}{'?keep-open' if keep_open else ''}")
            page.wait_for_function(_SETTLED, arg=[events, connections], timeout=SETTLE_GUARD_MS)
            rows = page.eval_on_selector_all("#events tbody tr", _TABLE)
            state = page.text_content("#state") or ""
            ready_state = int(page.get_attribute("#state", "data-ready-state") or -1)
            exchanges = recorder.exchanges
            later = None
            if quiet_ms is not None:
                page.wait_for_timeout(quiet_ms)
                later = recorder.exchanges
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
    return Run([Shown(*row) for row in rows], state, ready_state, exchanges, later)


def sent(exchanges: list[Exchange]) -> list[Shown]:
    """The events the server sent, as the suite's WHATWG decoder dispatches them.

    One decoder per response, as the browser parses each connection afresh;
    the demo's events all carry an id (or, broken, none), so the last event
    ID a browser keeps across connections changes nothing here.
    """
    events: list[Shown] = []
    for exchange in exchanges:
        for item in decode(Decoder, [bytes(exchange.body)]):
            if isinstance(item, MessageEvent):
                events.append(Shown(item.type, item.last_event_id, item.data))
    return events


def check_shown_equals_sent(run: Run) -> None:
    """The page shows every event the server sent, in order, type, id and data unchanged."""
    expected = sent(run.exchanges)
    assert run.shown == expected, f"expected the events sent: {expected}\nseen: {run.shown}"


def check_done_arrives(run: Run) -> None:
    """The custom type ``done`` reaches the page, once, as its last event."""
    types = [event.type for event in run.shown]
    assert types.count("done") == 1, f"expected one 'done' event; seen the types {types}"
    assert types[-1] == "done", f"expected 'done' last; seen the types {types}"


def check_every_event_once(run: Run, count: int) -> None:
    """The page shows events 1..count and ``done`` (id count + 1) exactly once, in order."""
    expected = [("message", str(n)) for n in range(1, count + 1)] + [("done", str(count + 1))]
    seen = [(event.type, event.id) for event in run.shown]
    assert seen == expected, f"expected each event once: {expected}\nseen: {seen}"
    for event in run.shown[:-1]:
        assert json.loads(event.data)["seq"] == int(event.id), f"data of event {event.id}: {event}"


def check_resumed_with_last_id(run: Run, connections: int) -> None:
    """Each reconnection sent the id of the previous response's last event as ``Last-Event-ID``.

    The first request sent none, and the server streamed *connections* responses.
    """
    first = run.exchanges[0].last_event_id
    assert first is None, f"expected no Last-Event-ID on the first request; seen {first!r}"
    for before, after in zip(run.exchanges, run.exchanges[1:], strict=False):
        assert after.last_event_id is not None, (
            f"expected the reconnection to send Last-Event-ID; it sent none "
            f"(the events before it: {sent([before])})"
        )
        given = sent([before])
        last = given[-1].id if given else ""
        assert after.last_event_id == last, (
            f"expected the reconnection to send Last-Event-ID: {last}; seen {after.last_event_id!r}"
        )
    streamed = [exchange for exchange in run.exchanges if exchange.status == 200]
    assert len(streamed) == connections, (
        f"expected {connections} streamed responses; seen {len(streamed)}"
    )


def check_waited_for_retry(run: Run, retry_ms: int) -> None:
    """Each reconnection arrived at least ``retry`` ms after the previous response ended.

    A lower bound only: the browser waits at least the retry interval, and
    may take longer.
    """
    for before, after in zip(run.exchanges, run.exchanges[1:], strict=False):
        assert before.ended is not None, "a reconnection before the response ended"
        waited_ms = (after.started - before.ended) * 1000
        assert waited_ms >= retry_ms, (
            f"expected a reconnection at least {retry_ms} ms after the response ended; "
            f"seen {waited_ms:.0f} ms"
        )


def check_stopped_by_204(run: Run) -> None:
    """The last request was answered 204, the source is CLOSED, and no request followed."""
    statuses = [exchange.status for exchange in run.exchanges]
    assert statuses[-1:] == [204], f"expected the last response to be 204; seen {statuses}"
    assert run.ready_state == 2, f"expected readyState CLOSED (2); seen {run.ready_state}"
    assert run.state == "closed", f"expected the page to say 'closed'; seen {run.state!r}"
    assert run.later is not None, "the quiet window was not observed"
    assert len(run.later) == len(run.exchanges), (
        f"expected no request after the 204; seen {len(run.later) - len(run.exchanges)} more"
    )
