"""Each check of ``tests/test_chat_page.py`` fails on a server broken in one way.

Run in the same headless Chromium, with the same settings, as the passing tests:

* a middleware that drops the stream's end marker (``[DONE]``, ``response.completed``):
  the page must show the answer as cut, never as done;
* a middleware that never tells the app the client left (``http.disconnect`` withheld):
  the model generates on after Stop, to ``[DONE]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from impl.app import create_app
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send
from tests import chat_page as page
from tests import eventsource_page as ep


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with ep.launched() as launched:
        yield launched


def without_end_marker(app: ASGIApp) -> ASGIApp:
    """``/chat`` with the event that ends the answer left out of the body."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/chat":
            await app(scope, receive, send)
            return

        async def dropping(message: Message) -> None:
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                if b"[DONE]" in body or b"response.completed" in body:
                    message = {**message, "body": b""}
            await send(message)

        await app(scope, receive, dropping)

    return call


def deaf_to_disconnect(app: ASGIApp) -> ASGIApp:
    """``/chat`` whose app is never told the client left: ``receive`` after the body waits
    for ever."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        told = False

        async def deaf() -> Message:
            nonlocal told
            if not told:
                message = await receive()
                told = not message.get("more_body", False)
                return message
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        chat = scope["type"] == "http" and scope["path"] == "/chat"
        await app(scope, deaf if chat else receive, send)

    return call


@pytest.mark.parametrize("style", ["openai", "typed"])
def test_a_stream_without_its_end_marker_is_shown_cut(chromium: Any, style: str) -> None:
    recorder = page.Recorder(without_end_marker(create_app(page.ANSWERING)))
    shown = page.ask(chromium, recorder, style)
    assert shown["state"] == "cut", shown
    with pytest.raises(AssertionError, match="expected the states"):
        page.check_whole_answer_then_done(shown, recorder.exchanges[0], style)


def test_a_server_deaf_to_the_disconnect_generates_on_after_stop(chromium: Any) -> None:
    recorder = page.Recorder(deaf_to_disconnect(create_app(page.SLOW)))
    shown = page.ask(chromium, recorder, "openai", stop=True)
    with pytest.raises(AssertionError, match="expected the server to stop before"):
        page.check_stopped_before_the_end(shown, recorder.exchanges[0])
