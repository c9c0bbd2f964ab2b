"""Run a client adapter against one replayed case and collect what it said.

:class:`ClientUnderTest` holds the adapter command (``--client-command``) and
the replay server. :meth:`ClientUnderTest.run` registers a case, starts the
adapter on its URL, reads the adapter's lines as they come, releases each hold
of the case as soon as the client has dispatched the events it waits for, and
returns a :class:`Transcript` when the adapter exits. A hang guard of
:data:`GUARD` seconds stops an adapter that never exits; it is a guard, not a
verdict on time: the transcript says the client hung. ``STREAMSPEC_CLIENT_GUARD``
(seconds) changes it, for the suite's own tests of hanging clients.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field

import anyio
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream

from spec.clients.cases import Case
from spec.clients.protocol import Ended, Failed, Hello, ProtocolError, parse
from spec.clients.replay import Replay, Run
from spec.sse import MessageEvent, RetryChange
from spec.targets.command import expand

GUARD = float(os.environ.get("STREAMSPEC_CLIENT_GUARD", "60"))
"""Seconds an adapter may run on one case before it is stopped as hung (default 60)."""

DEFAULT_CLIENT = "{python} -m spec.clients.oracle {url}"
"""The suite's own client (the WHATWG algorithm), which every case is written against."""

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
    requests: int = 0
    exit_code: int | None = None
    hung: bool = False
    protocol_errors: list[str] = field(default_factory=list)
    stderr: str = ""

    def describe(self) -> str:
        """A few lines for a failure message: how the run ended, and the adapter's stderr."""
        how = (
            "hung (stopped by the guard)"
            if self.hung
            else f"failed: {self.failed}"
            if self.failed is not None
            else f"ended: {self.ended}"
            if self.ended is not None
            else f"exited {self.exit_code} without saying how the stream ended"
        )
        lines = [f"client {self.client or '(unnamed)'} on case {self.case.name!r}: {how}"]
        lines.extend(f"protocol error: {error}" for error in self.protocol_errors)
        if self.stderr.strip():
            lines.append("adapter stderr: " + self.stderr.strip()[-1500:])
        return "\n".join(lines)


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
            for release in run.releases:
                release.set()
        transcript.in_time = list(run.in_time)
        transcript.requests = run.requests
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
                await _read_lines(process.stdout, run, transcript)
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


async def _drain(stream: ByteReceiveStream, into: list[bytes]) -> None:
    try:
        while True:
            into.append(await stream.receive())
    except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
        return
