"""Run a client adapter against one replayed case and collect what it said.

:class:`ClientUnderTest` holds the adapter command (``--client-command``) and
the replay server. :meth:`ClientUnderTest.run` registers a case, starts the
adapter on its URL, reads the adapter's lines as they come, releases each hold
of the case as soon as the client has dispatched the events it waits for, and
returns a :class:`Transcript` when the adapter exits. A hang guard of
:data:`GUARD` seconds stops an adapter that never exits; it is a guard, not a
verdict on time: the transcript says the client hung. ``STREAMSPEC_CLIENT_GUARD``
(seconds) changes it, for the suite's own tests of hanging clients.

In a reconnection case the adapter is told so (``reconnect=1`` in the URL)
and its client reconnects as it would; the runner follows the server's
request log and stops the adapter as soon as the rest could only repeat what
it has seen: when a request comes after a response that told the client to
stop (a 204, a status other than 200, a wrong Content-Type), or when no
request follows a response that ended within the reconnection time the case
expects plus :data:`BAND`, or when nothing at all follows a stop within
:data:`STOP_WINDOW` and the adapter is still running. Both windows are
load-aware observation periods (:func:`spec.patience.within`); they end runs,
and the chapter's checks judge the log.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass, field
from functools import partial

import anyio
import anyio.to_thread
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream

from spec.clients.cases import Case
from spec.clients.protocol import Ended, Failed, Hello, ProtocolError, parse
from spec.clients.replay import Replay, Request, Run
from spec.media import EVENT_STREAM
from spec.patience import within
from spec.sse import MessageEvent, RetryChange
from spec.targets.command import expand

GUARD = float(os.environ.get("STREAMSPEC_CLIENT_GUARD", "60"))
"""Seconds an adapter may run on one case before it is stopped as hung (default 60)."""

DEFAULT_CLIENT = "{python} -m spec.clients.oracle {url}"
"""The suite's own client (the WHATWG algorithm), which every case is written against."""

BAND = 5.0
"""Seconds past the expected reconnection time that the runner waits for a reconnection.

WHATWG HTML lets a client wait longer than the reconnection time ("optionally,
wait some more", for a backoff or until the network is back), so no upper
limit is a rule: the band is only how long the suite waits before it takes it
that the client does not reconnect. Five seconds, load-aware, is far more than
any client here adds to a first reconnection (none adds anything)."""

STOP_WINDOW = 3.0 + BAND
"""Seconds the runner watches for a request that must not come after a stop, when the
adapter keeps running: the longest default reconnection time among the clients here
(three seconds, Chromium's and eventsource's) plus :data:`BAND`."""

_LINE_LIMIT = 1 << 20


@dataclass
class Transcript:
    """What a client did with one case, as its adapter told it and the server saw it."""

    case: Case
    client: str = ""
    observes: frozenset[str] = frozenset()
    events: list[MessageEvent] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)
    failed: str | None = None
    ended: str | None = None
    in_time: list[bool | None] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    ends: list[float | None] = field(default_factory=list)
    stopped: str | None = None
    exit_code: int | None = None
    hung: bool = False
    protocol_errors: list[str] = field(default_factory=list)
    stderr: str = ""

    def describe(self) -> str:
        """A few lines for a failure message: how the run ended, and the adapter's stderr."""
        how = (
            "hung (stopped by the guard)"
            if self.hung
            else f"stopped by the suite: {self.stopped}"
            if self.stopped is not None
            else f"failed: {self.failed}"
            if self.failed is not None
            else f"ended: {self.ended}"
            if self.ended is not None
            else f"exited {self.exit_code} without saying how the stream ended"
        )
        lines = [f"client {self.client or '(unnamed)'} on case {self.case.name!r}: {how}"]
        if self.case.reconnects:
            lines.extend(self.log())
        lines.extend(f"protocol error: {error}" for error in self.protocol_errors)
        if self.stderr.strip():
            lines.append("adapter stderr: " + self.stderr.strip()[-1500:])
        return "\n".join(lines)

    def waited(self, number: int) -> float | None:
        """Seconds between the end of response *number* - 1 and request *number*."""
        if number < 2 or number > len(self.requests):
            return None
        ended = self.ends[number - 2]
        return None if ended is None else self.requests[number - 1].at - ended

    def log(self) -> list[str]:
        """The server's request log, one line a request."""
        lines = []
        for number, request in enumerate(self.requests, 1):
            header = (
                "no Last-Event-ID"
                if request.last_event_id is None
                else f"Last-Event-ID {request.last_event_id!r}"
            )
            waited = self.waited(number)
            after = "" if waited is None else f", {waited * 1000:.0f} ms after the response before"
            reply = self.case.reply(number)
            answer = f"{reply.status}" + (
                "" if reply.content_type in (EVENT_STREAM, None) else f" {reply.content_type}"
            )
            answer += ", dropped mid-body" if reply.dropped else ""
            lines.append(f"request {number}: {header}{after}; answered {answer}")
        return lines


class ClientUnderTest:
    """The adapter command of the client under test, and the replay server it reads from."""

    def __init__(self, command: str, replay: Replay, base_url: str) -> None:
        if "{url}" not in command:
            raise ValueError(f"the client command must contain {{url}}: {command!r}")
        self.command = command
        self.replay = replay
        self.base_url = base_url
        self.name = ""

    async def run(self, case: Case) -> Transcript:
        """Replay *case* to a fresh run of the adapter; return what happened."""
        path, run = self.replay.register(case)
        url = f"{self.base_url}{path}?types={','.join(case.types)}"
        if case.reconnects:
            url += "&reconnect=1"
        transcript = Transcript(case)
        try:
            process = await anyio.open_process(
                expand(self.command, url=url),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            async with process:
                await self._watch(process, run, transcript)
        finally:
            self.replay.forget(path)
            run.close()
            for release in run.releases:
                release.set()
        transcript.in_time = list(run.in_time)
        transcript.requests = list(run.log)
        transcript.ends = list(run.ended)
        if transcript.client:
            self.name = transcript.client
        return transcript

    async def _watch(self, process: Process, run: Run, transcript: Transcript) -> None:
        assert process.stdout is not None
        assert process.stderr is not None
        errors: list[bytes] = []
        with anyio.move_on_after(GUARD) as guard:
            async with anyio.create_task_group() as group:
                group.start_soon(_drain, process.stderr, errors)
                async with anyio.create_task_group() as watching:
                    if run.case.reconnects:
                        watching.start_soon(_follow_reconnections, run, transcript, process)
                    await _read_lines(process.stdout, run, transcript)
                    watching.cancel_scope.cancel()
            transcript.exit_code = await process.wait()
        if guard.cancelled_caught:
            transcript.hung = True
            process.kill()
            with anyio.CancelScope(shield=True):
                await process.wait()
        transcript.stderr = b"".join(errors).decode("utf-8", "replace")


async def _read_lines(stdout: ByteReceiveStream, run: Run, transcript: Transcript) -> None:
    holds = run.case.holds
    released = 0
    lines = BufferedByteReceiveStream(stdout)
    while True:
        try:
            raw = await lines.receive_until(b"\n", _LINE_LIMIT)
        except (anyio.EndOfStream, anyio.IncompleteRead):
            return
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        try:
            said = parse(line)
        except ProtocolError as error:
            transcript.protocol_errors.append(str(error))
            continue
        if isinstance(said, Hello):
            transcript.client, transcript.observes = said.client, said.observes
        elif isinstance(said, MessageEvent):
            transcript.events.append(said)
        elif isinstance(said, RetryChange):
            transcript.retries.append(said.milliseconds)
        elif isinstance(said, Failed):
            transcript.failed = said.reason
        elif isinstance(said, Ended):
            transcript.ended = said.how
        while released < len(holds) and len(transcript.events) >= holds[released].events:
            run.releases[released].set()
            released += 1


async def _follow_reconnections(run: Run, transcript: Transcript, process: Process) -> None:
    """Stop the adapter once the request log can only repeat itself (the module docstring)."""
    plan = run.case.reconnections or ()
    number = 1
    while True:
        if not await _logged(run, ended=number):
            return
        reply = run.case.reply(number)
        if reply.stops:
            window = STOP_WINDOW
        elif number - 1 < len(plan):
            window = plan[number - 1].after_ms / 1000 + BAND
        else:
            raise ValueError(f"case {run.case.name!r}: no reconnection planned after {number}")
        waited = await within(window, partial(_logged, run, requests=number + 1), verdict=False)
        if reply.stops:
            transcript.stopped = (
                f"request {number + 1} came after response {number} ({reply.status}) "
                "told the client to stop"
                if waited.arrived
                else f"still running {window:.0f} s after response {number} "
                f"({reply.status}) stopped it"
            )
        elif not waited.arrived:
            transcript.stopped = (
                f"no request {number + 1} within {window:.1f} s of the end of response {number}"
            )
        else:
            number += 1
            continue
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return


async def _logged(run: Run, *, requests: int = 0, ended: int = 0) -> bool:
    """Wait in a worker thread until the log holds that much (``False``: the run closed)."""
    wait = partial(run.wait_for, requests=requests, ended=ended)
    return await anyio.to_thread.run_sync(wait, abandon_on_cancel=True)


async def _drain(stream: ByteReceiveStream, into: list[bytes]) -> None:
    try:
        while True:
            into.append(await stream.receive())
    except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
        return
