"""The demo's chat page in a real headless Chromium, and the checks on it.

:func:`ask` serves an app with uvicorn on loopback, behind a :class:`Recorder`
that notes each ``/chat`` request (method, body), the bytes the app sent back,
and when the app's call returned (after the stream's cleanup: the reference
closes the model before it returns). The page (``GET /chat/page``) is loaded
in Chromium, driven by Playwright; the prompt is typed in and sent, Stop is
pressed after the first token if asked, and what the page shows once it has
settled is read from its DOM.

The ``check_*`` functions raise :class:`AssertionError` with what was expected
and what was seen; ``tests/test_chat_page_fails.py`` calls them on broken
servers to show that each can fail.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impl.chat import answer_tokens
from impl.settings import Settings
from spec.chat import read
from spec.sse import Decoder, MessageEvent
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send
from spec.targets.server import serve

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


def ask(chromium: Any, recorder: Recorder, style: str, *, stop: bool = False) -> dict[str, str]:
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


def check_whole_answer_then_done(shown: dict[str, str], exchange: Exchange, style: str) -> None:
    """The request was a POST of the prompt; the server sent the fake model's answer; the
    page shows exactly that text, and ``done`` after thinking and streaming."""
    assert exchange.method == "POST", exchange.method
    assert json.loads(exchange.body) == {"prompt": PROMPT, "style": style}
    expected = "".join(answer_tokens(PROMPT))
    sent = read(style, events_sent(exchange)).text  # type: ignore[arg-type]
    assert sent == expected, f"expected the server to send {expected!r}; it sent {sent!r}"
    assert shown["answer"] == expected, f"expected the page to show {expected!r}; seen {shown}"
    assert shown["history"].split() == ["asking", "thinking", "streaming", "done"], (
        f"expected the states asking, thinking, streaming, done; seen {shown}"
    )


def check_stopped_before_the_end(shown: dict[str, str], exchange: Exchange) -> None:
    """After Stop the app returned without having sent [DONE], and the page shows part of
    the answer, stopped."""
    reading = read("openai", events_sent(exchange))
    assert reading.terminators == [], (
        f"expected the server to stop before [DONE]; it sent {' '.join(reading.positions)}"
    )
    whole = "".join(answer_tokens(PROMPT))
    assert shown["state"] == "stopped", f"expected the page to say stopped; seen {shown}"
    assert 0 < len(shown["answer"]) < len(whole), f"expected part of the answer; seen {shown}"
    assert whole.startswith(shown["answer"]), f"expected the answer's start; seen {shown}"


ANSWERING = Settings(chat_thinking=0.2, chat_interval=0, keepalive=0.05)
#: One token every 200 ms of a ~30-token answer: Stop comes after the first.
SLOW = Settings(chat_thinking=0, chat_interval=0.2)
