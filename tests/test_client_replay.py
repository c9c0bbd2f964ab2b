"""The replay server and the runner of the client chapter, in-process, against the oracle client.

The chapter's checks rest on three things the server promises: a hold is
released by the client's events (and only runs out when they do not come),
a run is served once (a reconnection is counted and told to stop with 204),
and nothing else is served.
"""

from __future__ import annotations

import httpx

from spec.clients.cases import Hold, case
from spec.clients.replay import Replay
from spec.clients.runner import DEFAULT_CLIENT, ClientUnderTest
from spec.sse import MessageEvent
from spec.targets.server import serve

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
    assert transcript.requests == 1
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
