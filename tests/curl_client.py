"""curl as a real client of the text log stream: each line is on curl's stdout as it is made.

``curl -N`` (``--no-buffer``) writes what it receives to its stdout at once.
The check asks ``GET /conformance/log`` for some lines with a gate (see
:mod:`spec.gates`): the producer makes line 1 at once and waits at the gate
before each further line. For each line k the check waits until the producer
is blocked at the gate having made k lines, then reads line k off curl's
stdout, then opens the gate for line k+1. Ordering is by events: the gate says
when the producer cannot make anything more, and only then is curl's stdout
looked at.

While the producer is blocked, a line that is not on curl's stdout yet is held
back somewhere (server, middleware, curl), and nothing will release it until
the gate opens. The check still has to stop looking at some point: it watches
curl's stdout for at most :func:`spec.gates.arrival_guard` seconds (5 s, or
``STREAMSPEC_ARRIVAL_GUARD``). That window is not a speed target (a correct
server's line is there in milliseconds); it only bounds the wait for something
that would otherwise never come, and a line missing after it is a failure.
Every other timeout here (:data:`HANG_GUARD_SECONDS`) only stops a hang.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import anyio
from anyio.abc import ByteReceiveStream, Process
from anyio.streams.buffered import BufferedByteReceiveStream

from spec.gates import GateControl, arrival_guard, new_gate
from spec.surface import LOG_PATH, log_params
from spec.targets.client import SocketClient

HANG_GUARD_SECONDS = 30.0
"""How long curl may take to finish once the gate is open for good: a hang guard only."""

NO_CURL = "not run: no curl on PATH (CI installs Debian's curl in .ci/run)"
"""The reason a curl test is skipped."""

LOG_LINES = ["GET /a 200", "naïve 例子 ✓", "", "tab\there", "last line"]
"""Lines with an empty one, non-ASCII ones and a tab."""

_LINE_LIMIT = 1 << 16


def curl() -> str | None:
    """The path of the curl executable on PATH, or ``None``."""
    return shutil.which("curl")


def curl_command(url: str) -> list[str]:
    """``curl --no-progress-meter -N URL``, read by nothing but this test.

    ``-q`` (first) ignores any ``~/.curlrc`` and ``--noproxy *`` any proxy in
    the environment: the client under test is curl itself, talking to the
    server directly.
    """
    executable = curl()
    if executable is None:
        raise RuntimeError(NO_CURL)
    return [executable, "-q", "--noproxy", "*", "--no-progress-meter", "-N", url]


class CurlOutput:
    """curl's stdout, read line by line as it arrives (the pipe gives whatever bytes are there)."""

    def __init__(self, stdout: ByteReceiveStream) -> None:
        self.received = b""
        """Every line taken so far, and at the end every byte."""
        self._stdout = BufferedByteReceiveStream(stdout)

    async def next_line(self, window: float) -> bytes | None:
        """The next line, LF included, once it is there; ``None`` if it is not within *window*.

        ``None`` too when the output ends before a full line. A line cut short
        by the window stays buffered for the next call.
        """
        with anyio.move_on_after(window):
            try:
                line = await self._stdout.receive_until(b"\n", _LINE_LIMIT) + b"\n"
            except anyio.IncompleteRead:
                return None
            self.received += line
            return line
        return None

    async def to_end(self) -> bytes:
        """Every byte of the output, once curl has closed it (a hang guard stops the wait)."""
        with anyio.fail_after(HANG_GUARD_SECONDS):
            while True:
                try:
                    self.received += await self._stdout.receive()
                except anyio.EndOfStream:
                    return self.received


@asynccontextmanager
async def running_curl(url: str) -> AsyncIterator[tuple[Process, CurlOutput]]:
    """Start ``curl -N URL`` with its stdout on a pipe; kill it on the way out if still running."""
    process = await anyio.open_process(
        curl_command(url), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=None
    )
    async with process:
        assert process.stdout is not None
        try:
            yield process, CurlOutput(process.stdout)
        finally:
            if process.returncode is None:
                process.kill()


def log_url(base_url: str, lines: Sequence[str], gate: str | None = None) -> str:
    """The URL of ``GET /conformance/log`` streaming *lines*, at *gate* if given."""
    params = [*log_params(lines), *([("gate", gate)] if gate else [])]
    return f"{base_url}{LOG_PATH}?{urlencode(params)}"


async def assert_curl_receives_lines_as_produced(
    base_url: str, lines: Sequence[str] = LOG_LINES
) -> None:
    """Each log line is on ``curl -N``'s stdout while the producer waits before the next.

    Raise AssertionError when line k is not on curl's stdout within the
    arrival window while the producer is blocked at the gate having made k
    lines, when a line differs from its source, when the gate does not hold
    the producer, when curl's whole output is not the lines each ending in
    LF, or when curl does not exit with 0.
    """
    gate = new_gate()
    control = GateControl(SocketClient(base_url))
    async with running_curl(log_url(base_url, lines, gate)) as (process, output):
        async with control.unlocked_on_exit(gate):
            for k in range(1, len(lines)):
                unheld = await control.held_after(gate, k)
                if unheld:
                    raise AssertionError(unheld)
                window = arrival_guard()
                line = await output.next_line(window)
                if line is None:
                    raise AssertionError(
                        f"line {k} not on curl's stdout while the producer waits before "
                        f"line {k + 1} (watched for {window}s); "
                        f"curl's stdout so far: {output.received!r}"
                    )
                expected = lines[k - 1].encode() + b"\n"
                assert line == expected, f"line {k} on curl's stdout: {line!r} != {expected!r}"
                await control.open(gate)
        whole = await output.to_end()
        with anyio.fail_after(HANG_GUARD_SECONDS):
            code = await process.wait()
    expected_whole = "".join(line + "\n" for line in lines).encode()
    assert whole == expected_whole, f"curl's whole stdout: {whole!r} != {expected_whole!r}"
    assert code == 0, f"curl exited with {code}"
