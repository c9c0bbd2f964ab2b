"""The demo's EventSource page in a real headless Chromium (Debian's, driven by Playwright).

The page (``GET /events/page``) reads ``GET /events`` with ``EventSource``. The
server cuts the stream every two events and sends ``retry: 300``; the browser
must reconnect after at least 300 ms with ``Last-Event-ID``, the server
resumes after it, and the page ends with every event exactly once, ``done``
(a custom type) heard through ``addEventListener``. With ``?keep-open`` the
page does not close the source on ``done``: the browser reconnects once more,
the server answers 204, and the browser stops for good.

A screenshot of the page at the end of the first test is kept as
``reports/browser/eventsource.png``. Without chromium on PATH the tests are
skipped, saying so (CI installs Debian's ``chromium`` in ``.ci/run``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from impl.app import create_app
from impl.settings import Settings
from tests import eventsource_page as ep

COUNT = 5
RETRY_MS = 300
SETTINGS = Settings(
    event_count=COUNT, event_interval=0, event_retry=RETRY_MS, events_per_response=2
)
#: 1 2 | 3 4 | 5 done: three responses, each ended by the server.
CONNECTIONS = 3


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with ep.launched() as launched:
        yield launched


def test_the_page_gets_every_event_once_across_reconnections(chromium: Any) -> None:
    """Screenshot: ``reports/browser/eventsource.png``."""
    run = ep.run_page(
        chromium,
        create_app(SETTINGS),
        events=COUNT + 1,
        connections=CONNECTIONS,
        screenshot=ep.SCREENSHOT,
    )
    ep.check_shown_equals_sent(run)
    ep.check_done_arrives(run)
    ep.check_every_event_once(run, COUNT)
    ep.check_resumed_with_last_id(run, CONNECTIONS)
    ep.check_waited_for_retry(run, RETRY_MS)
    assert (run.ready_state, run.state) == (2, "closed: done"), "the page closed the source"
    assert [exchange.last_event_id for exchange in run.exchanges] == [None, "2", "4"]
    assert ep.SCREENSHOT.stat().st_size > 0


def test_a_204_stops_the_browser_from_reconnecting(chromium: Any) -> None:
    run = ep.run_page(
        chromium,
        create_app(SETTINGS),
        events=COUNT + 1,
        connections=CONNECTIONS,
        keep_open=True,
        quiet_ms=4 * RETRY_MS,
    )
    ep.check_shown_equals_sent(run)
    ep.check_done_arrives(run)
    ep.check_every_event_once(run, COUNT)
    ep.check_resumed_with_last_id(run, CONNECTIONS)
    ep.check_waited_for_retry(run, RETRY_MS)
    ep.check_stopped_by_204(run)
    assert [exchange.last_event_id for exchange in run.exchanges] == [None, "2", "4", "6"]
