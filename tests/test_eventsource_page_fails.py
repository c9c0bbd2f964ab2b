"""Each check of ``tests/eventsource_page.py`` fails on a page or server broken in one way.

The broken variants are in ``tests/broken/eventsource_apps.py``; each runs in
the same headless Chromium, with the same settings, as the passing tests of
``tests/test_eventsource_page.py``. The retry check's lower bound is shown
failing on a recorded run whose reconnection came too soon (a browser that
honours ``retry`` cannot be made to do that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from impl.app import create_app
from tests import eventsource_page as ep
from tests.broken import eventsource_apps as broken
from tests.test_eventsource_page import CONNECTIONS, COUNT, RETRY_MS, SETTINGS


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with ep.launched() as launched:
        yield launched


def _run(chromium: Any, breaking: broken.Breaking, **options: Any) -> ep.Run:
    app = breaking(create_app(SETTINGS))
    return ep.run_page(chromium, app, events=COUNT + 1, connections=CONNECTIONS, **options)


def test_a_server_that_ignores_last_event_id_repeats_events(chromium: Any) -> None:
    """The browser sends Last-Event-ID as it should; the server starts over each time."""
    run = _run(chromium, broken.ignoring_last_event_id)
    ep.check_resumed_with_last_id(run, len([e for e in run.exchanges if e.status == 200]))
    with pytest.raises(AssertionError, match="expected each event once"):
        ep.check_every_event_once(run, COUNT)


def test_a_stream_without_ids_gives_the_browser_nothing_to_resume_from(chromium: Any) -> None:
    """No id, no Last-Event-ID: the reconnection cannot say where to resume."""
    run = _run(chromium, broken.without_ids)
    with pytest.raises(AssertionError, match="expected the reconnection to send Last-Event-ID"):
        ep.check_resumed_with_last_id(run, CONNECTIONS)
    with pytest.raises(AssertionError, match="expected each event once"):
        ep.check_every_event_once(run, COUNT)


def test_a_page_with_onmessage_alone_never_hears_done(chromium: Any) -> None:
    """``onmessage`` hears the type ``message`` only: ``done`` is sent but never shown."""
    run = _run(chromium, broken.onmessage_page)
    with pytest.raises(AssertionError, match="expected the events sent"):
        ep.check_shown_equals_sent(run)
    with pytest.raises(AssertionError, match="expected one 'done' event"):
        ep.check_done_arrives(run)


def test_an_empty_200_instead_of_204_keeps_the_browser_reconnecting(chromium: Any) -> None:
    """Every event arrives once, but an empty 200 is a stream to reconnect to, not a stop."""
    run = _run(chromium, broken.streaming_instead_of_204, keep_open=True, quiet_ms=4 * RETRY_MS)
    ep.check_every_event_once(run, COUNT)
    with pytest.raises(AssertionError, match="expected the last response to be 204"):
        ep.check_stopped_by_204(run)


def _recorded(gap_seconds: float) -> ep.Run:
    first = ep.Exchange(None, started=10.0, status=200, ended=11.0)
    second = ep.Exchange("2", started=11.0 + gap_seconds, status=200, ended=12.0)
    return ep.Run([], "closed", 2, [first, second], None)


@pytest.mark.parametrize(
    ("gap_seconds", "check"),
    [
        (RETRY_MS / 1000, lambda run: ep.check_waited_for_retry(run, RETRY_MS)),
        (5.0, lambda run: ep.check_waited_for_retry(run, RETRY_MS)),
    ],
)
def test_the_retry_check_is_a_lower_bound(
    gap_seconds: float, check: Callable[[ep.Run], None]
) -> None:
    check(_recorded(gap_seconds))


def test_a_reconnection_sooner_than_retry_fails_the_retry_check() -> None:
    with pytest.raises(AssertionError, match="at least 300 ms"):
        ep.check_waited_for_retry(_recorded(0.1), RETRY_MS)
