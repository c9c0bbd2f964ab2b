"""The Redis Streams feed against a real redis-server, through the reference served by
uvicorn in its own process: ids are the stream's, a lost Redis ends the stream with the
``unavailable`` event and publishing answers 503, and once the same Redis is back (its
append-only file kept the streams) a client resumes with its Last-Event-ID exactly."""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx

from spec.kit.feed import UNAVAILABLE
from spec.kit.feed_redis import RedisFeeds, parse_id
from spec.sse import Decoder, MessageEvent
from spec.targets.command import run_command
from tests.redis_server import RedisServer, redis_server

GUARD = 20.0  # a hang guard, never a verdict


@contextmanager
def reference_on(redis: RedisServer) -> Iterator[str]:
    """The reference app with ``STREAMSPEC_FEED`` naming *redis*; its base URL."""
    saved = os.environ.get("STREAMSPEC_FEED")
    os.environ["STREAMSPEC_FEED"] = redis.url
    try:
        with run_command(f"{sys.executable} -m uvicorn impl.app:app --port {{port}}") as run:
            yield run.url
    finally:
        if saved is None:
            del os.environ["STREAMSPEC_FEED"]
        else:
            os.environ["STREAMSPEC_FEED"] = saved


async def publish(client: httpx.AsyncClient, feed: str, data: list[str]) -> httpx.Response:
    return await client.post(f"/conformance/feed/{feed}", content=json.dumps(data))


async def read_until(
    client: httpx.AsyncClient, feed: str, count: int, last_event_id: str | None = None
) -> list[MessageEvent]:
    """*count* events of the feed (or fewer, if the stream ends first)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[MessageEvent] = []
    decoder = Decoder()
    async with client.stream("GET", f"/conformance/feed/{feed}", headers=headers) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_raw():
            events += [i for i in decoder.feed(chunk) if isinstance(i, MessageEvent)]
            if len(events) >= count:
                break
    return events


async def test_ids_are_the_streams_and_a_lost_redis_ends_the_stream(tmp_path: Path) -> None:
    """Read two events, stop redis-server: the stream ends with ``unavailable``, publishing
    answers 503; start it again: publishing works and resuming from each id is exact."""
    with redis_server(tmp_path) as redis, reference_on(redis) as url:
        async with httpx.AsyncClient(base_url=url, timeout=GUARD) as client:
            published = await publish(client, "f", ["a", "b"])
            ids = published.json()["ids"]
            assert all(parse_id(i) for i in ids), ids
            reading = anyio.Event()
            seen: list[MessageEvent] = []

            async def read_then_lose() -> None:
                headers: dict[str, str] = {}
                decoder = Decoder()
                async with client.stream("GET", "/conformance/feed/f", headers=headers) as r:
                    async for chunk in r.aiter_raw():
                        seen.extend(i for i in decoder.feed(chunk) if isinstance(i, MessageEvent))
                        if len(seen) == 2:
                            reading.set()

            with anyio.fail_after(GUARD):
                async with anyio.create_task_group() as group:
                    group.start_soon(read_then_lose)
                    await reading.wait()
                    await anyio.to_thread.run_sync(redis.stop)
            # The body ended (the task group returned) with the documented event.
            assert [e.data for e in seen[:2]] == ["a", "b"]
            assert [e.last_event_id for e in seen[:2]] == ids
            (last,) = seen[2:]
            assert last.type == UNAVAILABLE
            assert "reason" in json.loads(last.data)
            assert (await publish(client, "f", ["lost"])).status_code == 503

            await anyio.to_thread.run_sync(redis.start)
            after = await publish(client, "f", ["c"])
            assert after.status_code == 200, after.text
            with anyio.fail_after(GUARD):
                resumed = await read_until(client, "f", 1, last_event_id=ids[0])
                assert [(e.data, e.type) for e in resumed] == [("b", "message")]
                rest = await read_until(client, "f", 1, last_event_id=ids[1])
                assert [e.data for e in rest] == ["c"]


async def test_a_trimmed_id_gets_a_gap_then_the_oldest_held(tmp_path: Path) -> None:
    """An id after which an entry was trimmed, an id the stream never issued, and one that
    is no stream id at all: each gets the gap, then the oldest entry held."""
    with redis_server(tmp_path) as redis, reference_on(redis) as url:
        async with httpx.AsyncClient(base_url=url, timeout=GUARD) as client:
            first = (await publish(client, "g", ["0"])).json()["ids"][0]
            # 66 events, 64 held: "0" and "1" are trimmed, and "1" came after the first id.
            await publish(client, "g", [str(n) for n in range(1, 66)])
            with anyio.fail_after(GUARD):
                events = await read_until(client, "g", 2, last_event_id=first)
                never = await read_until(client, "g", 2, last_event_id="99999999999999-0")
                garbage = await read_until(client, "g", 1, last_event_id="not an id")
            assert events[0].type == "gap"
            assert json.loads(events[0].data)["last_event_id"] == first
            assert events[1].data == "2"
            assert never[0].type == "gap"
            assert never[1].data == "2"
            assert garbage[0].type == "gap"


async def test_a_subscriber_that_falls_behind_is_told_and_loses_nothing_else(
    tmp_path: Path,
) -> None:
    """A subscriber that stops reading while ten events are published to a feed holding
    four: what it reads next is in order, none twice, ends with the last event, and every
    event it does not get is announced by a gap event where it would have been."""
    with redis_server(tmp_path) as redis:
        feeds = RedisFeeds(redis.url, 4)
        await feeds.publish("behind", ["a"])
        events = feeds.subscribe("behind", None)
        with anyio.fail_after(GUARD):
            first = await anext(events)
            assert first.data == "a"
            published = [str(n) for n in range(10)]
            await feeds.publish("behind", published)
            seen = []
            while not seen or seen[-1].data != "9":
                seen.append(await anext(events))
        await events.aclose()  # type: ignore[attr-defined]
        await feeds.aclose()
    messages = [e.data for e in seen if e.event != "gap"]
    assert messages == sorted(set(messages), key=published.index), seen
    missing = [d for d in published if d not in messages]
    if missing:
        gap = next(i for i, e in enumerate(seen) if e.event == "gap")
        assert all(seen[i].data in messages for i in range(gap + 1, len(seen)))
        assert published.index(seen[gap + 1].data) > published.index(missing[-1]), seen
    ids = [e.id for e in seen if e.event != "gap"]
    assert all(parse_id(a) < parse_id(b) for a, b in itertools.pairwise(ids)), ids  # type: ignore[operator]


async def test_a_blocked_read_outlasts_its_block_before_the_socket_times_out(
    tmp_path: Path,
) -> None:
    """redis-py's default socket timeout (5 s) is shorter than a ``BLOCK``: an idle feed
    would end with ``unavailable`` every few seconds. The client's timeout is longer."""
    with redis_server(tmp_path) as redis:
        feeds = RedisFeeds(redis.url, 4)
        await feeds.publish("idle", ["a"])
        client = feeds._client()
        timeout = client.connection_pool.connection_kwargs["socket_timeout"]
        await feeds.aclose()
    assert timeout > feeds.block_ms / 1000
