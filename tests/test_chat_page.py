"""The demo's chat page in a real headless Chromium (Debian's, driven by Playwright).

The page (``GET /chat/page``) POSTs a prompt to ``POST /chat`` with ``fetch``
and reads the answer from the response's ``ReadableStream``, parsing the SSE
itself (``tests/chat_page.py`` drives it). It shows the fake model's tokens
joined, and ends ``done`` only on the convention's end marker; its Stop button
aborts the fetch, after which the server stops generating: the app returns
without having sent the end marker.

A screenshot of the page is kept as ``reports/browser/chat.png``. Without chromium
on PATH the tests are skipped, saying so (CI installs Debian's ``chromium``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from impl.app import create_app
from tests import chat_page as cp
from tests import eventsource_page as ep


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with ep.launched() as launched:
        yield launched


@pytest.mark.parametrize("style", ["openai", "typed"])
def test_the_page_shows_the_whole_answer_then_done(chromium: Any, style: str) -> None:
    """Screenshot: ``reports/browser/chat.png``."""
    recorder = cp.Recorder(create_app(cp.ANSWERING))
    shown = cp.ask(chromium, recorder, style)
    (exchange,) = recorder.exchanges
    cp.check_whole_answer_then_done(shown, exchange, style)
    assert cp.SCREENSHOT.stat().st_size > 0


def test_stop_aborts_the_fetch_and_the_server_stops_generating(chromium: Any) -> None:
    recorder = cp.Recorder(create_app(cp.SLOW))
    shown = cp.ask(chromium, recorder, "openai", stop=True)
    (exchange,) = recorder.exchanges
    cp.check_stopped_before_the_end(shown, exchange)
