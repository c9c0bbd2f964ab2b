"""The replay server and the runner of the client chapter, in-process, against the oracle client.

The chapter's checks rest on what the server promises: a hold is released by
the client's events (and only runs out when they do not come); a run's
requests are answered in order (the case's response, its later replies, then
204) and logged with their Last-Event-ID, each after the response before it
ended; a dropped reply is a network error to the client; and nothing else is
served. The runner stops a reconnecting client once the log is complete. No
test here compares a duration with a bound: they order by the server's log.
"""

from __future__ import annotations

import httpx
import pytest

from spec.clients import runner
from spec.clients.cases import Hold, Reconnection, Reply, case
from spec.clients.replay import Replay
from spec.clients.runner import DEFAULT_CLIENT, ClientUnderTest
from spec.sse import MessageEvent
from spec.targets.server import serve
from tests.broken.clients import command

PAUSE = case(
    "pause",
    b"data: a\n\n",
    Hold(1),
    b"data: b\n\n",
    expected=[MessageEvent("message", "a", ""), MessageEvent("message", "b", "")],
)


async def test_the_clients_event_releases_the_hold() -> None:
    replay = Replay()
    with serve(replay) as base_url:
        transcript = await ClientUnderTest(DEFAULT_CLIENT, replay, base_url).run(PAUSE)
    assert transcript.describe().endswith("ended: closed")
    assert transcript.client == "streamspec oracle"
    assert transcript.events == list(PAUSE.expected)
    assert transcript.in_time == [True]
    assert len(transcript.requests) == 1
    assert transcript.requests[0].last_event_id is None
    assert not transcript.hung
    assert transcript.protocol_errors == []


async def test_a_hold_runs_out_for_a_client_that_waits_for_the_end() -> None:
    """A client that parses only the whole body dispatches nothing while the server holds."""
    replay = Replay(hold_window=0.2)
    buffering = (
        "{python} -m spec.clients.oracle --decoder tests.broken.decoders:DispatchesAtClose {url}"
    )
    with serve(replay) as base_url:
        transcript = await ClientUnderTest(buffering, replay, base_url).run(PAUSE)
    assert transcript.events == list(PAUSE.expected)
    assert transcript.in_time == [False]


def test_a_run_is_served_once_and_nothing_else_is_served() -> None:
    replay = Replay()
    whole = case("whole", b"data: a\n\n", expected=[MessageEvent("message", "a", "")])
    with serve(replay) as base_url, httpx.Client(base_url=base_url) as client:
        path, run = replay.register(whole)
        first = client.get(path)
        assert (first.status_code, first.content) == (200, whole.body)
        assert first.headers["content-type"] == "text/event-stream"
        again = client.get(path)
        assert (again.status_code, again.content) == (204, b"")
        assert run.requests == 2
        assert client.get("/replay/unknown").status_code == 404
        assert client.get("/").status_code == 404
        replay.forget(path)
        assert client.get(path).status_code == 404


SCRIPT = case(
    "script",
    b"retry: 100\nid: 1\ndata: a\n\n",
    expected=[MessageEvent("message", "a", "1")],
    then=[Reply((b"id: 2\ndata: b\n\n",))],
    reconnections=[Reconnection(100, "1"), Reconnection(100, "2")],
)


def test_a_reconnection_case_answers_each_request_in_turn() -> None:
    """The case's response, its later reply, then 204 for good; each request logged."""
    replay = Replay()
    with serve(replay) as base_url, httpx.Client(base_url=base_url) as client:
        path, run = replay.register(SCRIPT)
        first = client.get(path)
        second = client.get(path, headers={"Last-Event-ID": "1"})
        third = client.get(path, headers={"Last-Event-ID": "2"})
        assert (first.status_code, first.content) == (200, SCRIPT.body)
        assert (second.status_code, second.content) == (200, b"id: 2\ndata: b\n\n")
        assert (third.status_code, third.content) == (204, b"")
    assert [request.last_event_id for request in run.log] == [None, "1", "2"]
    ends = [end for end in run.ended if end is not None]
    assert len(ends) == 3
    assert ends[0] <= run.log[1].at
    assert ends[1] <= run.log[2].at


def test_a_dropped_reply_is_a_network_error_to_the_client() -> None:
    dropped = case("dropped", b"data: a\n\n", dropped=True, reconnections=[])
    replay = Replay()
    with serve(replay) as base_url, httpx.Client(base_url=base_url) as client:
        path, run = replay.register(dropped)
        with client.stream("GET", path) as response, pytest.raises(httpx.RemoteProtocolError):
            for _ in response.iter_raw():
                pass
    assert run.ended[0] is not None


async def test_the_oracle_reconnects_as_the_case_says() -> None:
    """Three requests, with no header, then ``1``, then ``2``; the 204 ends the oracle's run."""
    replay = Replay()
    with serve(replay) as base_url:
        transcript = await ClientUnderTest(DEFAULT_CLIENT, replay, base_url).run(SCRIPT)
    assert [request.last_event_id for request in transcript.requests] == [None, "1", "2"]
    assert transcript.failed == "status 204"
    assert transcript.stopped is None
    assert [event.data for event in transcript.events] == ["a", "b"]


async def test_a_client_that_comes_back_after_a_stop_is_stopped() -> None:
    stop = case("stop", status=204, content_type=None, fails=True, reconnections=[])
    replay = Replay()
    broken = command("retries-after-no-content")
    with serve(replay) as base_url:
        transcript = await ClientUnderTest(broken, replay, base_url).run(stop)
    assert len(transcript.requests) == 2
    assert transcript.stopped == "request 2 came after response 1 (204) told the client to stop"
    assert not transcript.hung


async def test_a_client_that_does_not_come_back_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that stops reading and never reconnects is stopped once the band is out."""
    monkeypatch.setattr(runner, "BAND", 0.2)
    replay = Replay()
    hangs = command("hangs-after-first-event")
    with serve(replay) as base_url:
        transcript = await ClientUnderTest(hangs, replay, base_url).run(SCRIPT)
    assert len(transcript.requests) == 1
    assert transcript.stopped is not None
    assert transcript.stopped.startswith("no request 2 within")
    assert not transcript.hung
