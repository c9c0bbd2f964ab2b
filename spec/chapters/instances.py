"""Several instances

A real SSE service runs several processes (`uvicorn --workers 4`, or several
hosts) behind a load balancer, and a client that reconnects with
`Last-Event-ID` lands wherever the balancer sends it, seldom on the process
that served it. The chapter "Cancellation" checks resuming against one
process; a feed kept in each process's memory passes it, and then, behind a
balancer, a reconnecting client finds another feed, or none: it loses the
events it missed, or is sent events again. The same goes for the events
published while it was away: they were published on whichever instance took
the `POST`.

This chapter holds the service to what its clients see: resuming on another
instance is resuming. The feed's events must live where every instance reads
them (a shared store such as Redis Streams, whose entry ids serve as the
events' ids), and the move from history to live events must leave no gap.

How the suite gets two instances: `--target-instances=URL,URL` names two
running instances (two hosts, or two ports of one host; each URL with the
prefix its surface lives under, if any); otherwise, with
`--target-command="... --port {port}"`, it starts the command twice, each
on a port of its own, both running until the chapter ends; the two processes
must be two instances of one service (the same configuration, the same
store). Then it publishes through the first, reads part of the feed through
the first, and resumes with `Last-Event-ID` through the second while more
events are published through both, for any events and any disconnect point
(hypothesis). An ASGI app named by
`--target=module:attr` is one instance in the suite's process, and a running
server named by URL is one address: for them the rule is not applicable,
unless `--target-instances` names the instances.

For the reference app, run it twice on one Redis:

    STREAMSPEC_FEED=redis://127.0.0.1:6379/0 pytest spec -k INSTANCES \\
        --target-command="python -m uvicorn impl.app:app --port {port}"
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec.capabilities import requires
from spec.chapters.cancel import new_id, read_feed
from spec.rules import MUST, Chapter, expect, not_applicable, not_observable
from spec.sources import SSE_LAST_EVENT_ID
from spec.sse import MessageEvent
from spec.sse.model import as_dispatched
from spec.streams import fetch
from spec.surface import FEED_PATH
from spec.targets.client import SocketClient
from spec.targets.command import CommandError, run_command
from spec.targets.target import Target

chapter = Chapter(__name__)

#: How many instances of the target the chapter runs.
INSTANCES = 2

#: The most events a resumed connection reads before its end marker.
_READ_AT_MOST = 64


@pytest.fixture(scope="session")
def instances(request: pytest.FixtureRequest, target: Target) -> Iterator[list[str]]:
    """The base URLs of two instances: ``--target-instances``, or a command target started
    twice for the session."""
    given_urls = request.config.getoption("--target-instances")
    if given_urls:
        urls = [url.strip().rstrip("/") for url in given_urls.split(",") if url.strip()]
        if len(urls) < INSTANCES:
            not_applicable(f"--target-instances names {len(urls)} instance, not {INSTANCES}")
        yield urls[:INSTANCES]
        return
    if target.command is None:
        what = "an ASGI app in the suite's process" if target.asgi_app else "one address"
        not_applicable(
            f"the target is {what} ({target.name}): only one instance can be had; "
            f"name it with --target-command to run it {INSTANCES} times"
        )
    with ExitStack() as stack:
        try:
            running = [stack.enter_context(run_command(target.command)) for _ in range(INSTANCES)]
        except CommandError as error:
            not_observable(f"the target command cannot be started {INSTANCES} times: {error}")
        yield [one.url + target.prefix for one in running]


async def _publish(client: SocketClient, feed: str, data: list[str]) -> None:
    fetched = await fetch(client, "POST", f"{FEED_PATH}/{feed}", body=json.dumps(data).encode())
    expect(fetched.status, 200, f"status of publishing to {FEED_PATH}/{feed} on {client.base_url}")


ELSEWHERE = chapter.rule(
    "INSTANCES-RESUME-01",
    MUST,
    "A client that reconnects with Last-Event-ID to another instance of the same service "
    "receives exactly the events it missed, including those published on any instance "
    "meanwhile: none lost, none twice.",
    SSE_LAST_EVENT_ID,
)


@requires("feed")
@ELSEWHERE.check
@given(
    data=st.lists(st.text(max_size=8), min_size=1, max_size=8),
    split=st.integers(0, 8),
    racing=st.lists(st.text(max_size=8), max_size=6),
)
async def check_resume_on_another_instance(
    instances: list[str], data: list[str], split: int, racing: list[str]
) -> None:
    """Publish through the first instance and read part of the feed there; resume through
    the second while more events are published through each instance in turn: the two
    connections together carry every event once, in order."""
    first, second = (SocketClient(url) for url in instances)
    feed = new_id()
    split = min(split, len(data))
    end = f"end-{new_id()}"  # published last: a lost event shows as this one coming early
    await _publish(first, feed, data)
    before = await read_feed(first, feed, split, end=end)
    resume_from = before[-1].last_event_id if before else None
    after: list[MessageEvent] = []
    failed: list[Exception] = []

    async def resume() -> None:
        try:
            after.extend(await read_feed(second, feed, _READ_AT_MOST, resume_from, end=end))
        except Exception as error:  # re-raised alone below, not in a group
            failed.append(error)

    async with anyio.create_task_group() as group:
        group.start_soon(resume)
        for index, one in enumerate(racing):
            await _publish((second, first)[index % 2], feed, [one])
        # Through the reader's instance: a reader on a feed of its own still ends.
        await _publish(second, feed, [end])
    if failed:
        raise failed[0]
    expected = [as_dispatched(d) for d in [*data, *racing]]
    expect(
        [e.data for e in before + after],
        expected,
        f"events read on {first.base_url} cut at {split}, then on {second.base_url} resumed "
        f"with Last-Event-ID {resume_from!r}, {len(racing)} published meanwhile",
    )
