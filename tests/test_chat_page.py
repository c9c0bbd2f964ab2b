"""The demo's chat page in a real headless Chromium (Debian's, driven by Playwright).

The page (``GET /chat/page``) POSTs a prompt to ``POST /chat`` with ``fetch``
and reads the answer from the response's ``ReadableStream``, parsing the SSE
itself. A :class:`Recorder` in front of the app notes each ``/chat`` request
(method, body) and the bytes the app sent back, and when the app's call
returned (after the stream's cleanup: the reference closes the model before it
returns). The page shows the fake model's tokens joined, and ends ``done`` only
on the convention's end marker; its Stop button aborts the fetch, after which
the server stops generating: the app returns without having sent the end marker.

A screenshot of the page is kept as ``reports/browser/chat.png``. Without chromium
on PATH the tests are skipped, saying so (CI installs Debian's ``chromium``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from impl.app import create_app
from impl.chat import answer_tokens
from impl.settings import Settings
from spec.chat import read
from spec.sse import Decoder, MessageEvent
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send
from spec.targets.server import serve
from tests import eventsource_page as ep

PROMPT = 'Why stream? <b>"quoted"</b> 例子 🎉'
GUARD_MS = 30_000
SCREENSHOT = Path(__file__).resolve().parent.parent / "reports" / "browser" / "chat.png"


@dataclass
class Exchange:
    """One ``/chat`` request as the app saw it."""

    method: str
    body: bytearray = field(default_factory=bytearray)
    sent: bytearray = field(default_factory=bytearray)
    returned: threading.Event = field(default_factory=threading.Event)


class Recorder:
    """ASGI middleware that records every ``/chat`` exchange, and changes nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/chat":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(scope["method"])
        self.exchanges.append(exchange)

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.body += message.get("body", b"")
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.body":
                exchange.sent += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            exchange.returned.set()


def events_sent(exchange: Exchange) -> list[MessageEvent]:
    decoder = Decoder()
    items = [*decoder.feed(bytes(exchange.sent)), *decoder.close()]
    return [item for item in items if isinstance(item, MessageEvent)]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with ep.launched() as launched:
        yield launched


def _ask(chromium: Any, recorder: Recorder, style: str, *, stop: bool = False) -> dict[str, str]:
    """Load the page, ask PROMPT in *style* (pressing Stop after the first token with
    *stop*), and return what it shows once it has settled."""
    with serve(recorder) as base:
        context = chromium.new_context()
        try:
            page = context.new_page()
            page.goto(f"{base}/chat/page")
            page.fill("#prompt", PROMPT)
            page.select_option("#style", style)
            page.click("#send")
            if stop:
                page.wait_for_function(
                    "Number(document.getElementById('tokens').textContent) > 0",
                    timeout=GUARD_MS,
                )
                page.click("#stop")
            page.wait_for_function(
                "['done', 'error', 'cut', 'stopped']"
                ".includes(document.getElementById('state').dataset.state)",
                timeout=GUARD_MS,
            )
            if not stop:
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)
            shown = {
                "state": page.get_attribute("#state", "data-state") or "",
                "history": page.get_attribute("#state", "data-history") or "",
                "answer": page.text_content("#answer") or "",
            }
            if stop:
                assert recorder.exchanges[-1].returned.wait(GUARD_MS / 1000), (
                    "the app never returned"
                )
        finally:
            context.close()
    return shown


@pytest.mark.parametrize("style", ["openai", "typed"])
def test_the_page_shows_the_whole_answer_then_done(chromium: Any, style: str) -> None:
    """Screenshot: ``reports/browser/chat.png``."""
    recorder = Recorder(create_app(Settings(chat_thinking=0.2, chat_interval=0, keepalive=0.05)))
    shown = _ask(chromium, recorder, style)
    (exchange,) = recorder.exchanges
    assert exchange.method == "POST"
    assert json.loads(exchange.body) == {"prompt": PROMPT, "style": style}
    expected = "".join(answer_tokens(PROMPT))
    assert read(style, events_sent(exchange)).text == expected  # type: ignore[arg-type]
    assert shown["answer"] == expected, shown
    assert shown["state"] == "done", shown
    assert shown["history"].split() == ["asking", "thinking", "streaming", "done"], shown
    assert SCREENSHOT.stat().st_size > 0


def test_stop_aborts_the_fetch_and_the_server_stops_generating(chromium: Any) -> None:
    """One token every 200 ms of a ~30-token answer: Stop after the first; the app returns
    (its model closed) without having sent [DONE], and the page shows what came, stopped."""
    recorder = Recorder(create_app(Settings(chat_thinking=0, chat_interval=0.2)))
    shown = _ask(chromium, recorder, "openai", stop=True)
    (exchange,) = recorder.exchanges
    reading = read("openai", events_sent(exchange))
    assert reading.terminators == [], f"the server finished the answer: {reading.positions}"
    assert shown["state"] == "stopped", shown
    assert expected_prefix(shown["answer"])


def expected_prefix(answer: str) -> bool:
    whole = "".join(answer_tokens(PROMPT))
    return 0 < len(answer) < len(whole) and whole.startswith(answer)
