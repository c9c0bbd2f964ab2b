"""Run a target in a process of its own, to send it signals: ``uvicorn module:attr``, or the
same app under hypercorn or granian (``--server``).

The process is started the way people deploy an ASGI app, with the server's own
command line, so a check sees what a real deployment does on SIGTERM (sent to the
process the suite started, as a container runtime sends it to its first process).
The flags that differ from a server's defaults, and why:

- uvicorn: ``--http h11``, the protocol the in-process server runs (with httptools
  installed, uvicorn's default ``auto`` picks httptools, which answers an HTTP/1.0
  request with a chunked body: HDR-XFER-02 fails there); no
  ``--timeout-graceful-shutdown``: it waits for open responses without a bound.
- hypercorn: ``--workers 0`` serves in the process that gets the signal. With its
  default of one worker process, hypercorn tells the worker of SIGTERM through a
  ``multiprocessing.Event`` and never signals it, so no app in the worker can learn
  of the shutdown until ``--graceful-timeout`` runs out and hypercorn cancels its
  open responses, each cut off without its last chunk (``tests/servers/``
  reproduces this with a ten-line app). ``--graceful-timeout 5`` (3 s by
  default) gives open responses half the rules' grace period.
- granian: ``--workers-kill-timeout 5``: granian's main process relays SIGTERM to
  its worker process and, by default, waits for it without a bound; with the
  flag it kills a worker still running 5 s on, so a stuck worker never outlives
  the run.

5 s, half the rules' 10 s grace period (``SHUTDOWN_GRACE``), as a deployment sets
its server's graceful timeout under the kill deadline of whatever stops it: the
server, not the kill, ends what is left, and has the time to exit. The other half
is the server's own, to cancel what is left, close its sockets and exit, on a busy
machine too: at 8 s, hypercorn's exit left the check under 1 s of its window on an
idle machine, and in one CI run it came too late, failing the reference on
CANCEL-SHUTDOWN-03.

Each child runs in a session of its own, and leaving :func:`run_child` kills the
whole session while the child still runs: a server's worker processes end with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from threading import Thread

import anyio

from spec import patience
from spec.targets.server import GRANIAN, HYPERCORN, SERVERS, UVICORN

_START_GUARD = 30.0
#: The grace period each server is given for its open responses on SIGTERM, where it has one:
#: under the rules' own (10 s, CANCEL-SHUTDOWN-01 and 03), as the module docstring says.
GRACE_SECONDS = 5


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Child:
    """A child process and the lines it printed, read by a thread as they come."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    terminated_at: float | None = None
    """When :meth:`terminate` sent SIGTERM (``time.monotonic()``), or ``None``."""

    def terminate(self) -> None:
        """Send SIGTERM, as a process manager does to stop a server."""
        self.terminated_at = time.monotonic()
        self.process.send_signal(signal.SIGTERM)

    def since_terminated(self) -> float:
        """Seconds since SIGTERM was sent (0 if it was not)."""
        return 0.0 if self.terminated_at is None else time.monotonic() - self.terminated_at

    async def exited(self, within: float) -> int | None:
        """The exit status if the process ends within *within* seconds, else ``None``.

        The window is load-aware (:func:`spec.patience.within`); the process is
        polled, so that the wait really ends with the window.
        """

        async def ended() -> int:
            while (status := self.process.poll()) is None:  # noqa: ASYNC110 - a process, no event
                await anyio.sleep(0.02)
            return status

        waited = await patience.within(within, ended, kind="exit")
        return waited.value if waited.arrived else None

    async def wait_for_line(self, text: str, within: float = _START_GUARD) -> None:
        """Wait until the process has printed a line containing *text*."""
        with anyio.fail_after(within):
            while not any(text in line for line in self.lines):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the process exited:\n{''.join(self.lines)}")
                await anyio.sleep(0.02)

    async def wait_until_serving(self, ready: str, port: int) -> None:
        """Wait until the process has printed *ready* and 127.0.0.1:PORT accepts a connection
        (a server whose worker binds the port itself may say it started before it listens)."""
        await self.wait_for_line(ready)
        with anyio.fail_after(_START_GUARD):
            while True:
                try:
                    connection = await anyio.connect_tcp("127.0.0.1", port)
                except OSError:
                    if self.process.poll() is not None:
                        raise RuntimeError(f"the process exited:\n{self.output}") from None
                    await anyio.sleep(0.02)
                    continue
                await connection.aclose()
                return

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def run_child(command: Sequence[str]) -> Iterator[Child]:
    """Start *command* with its output collected, in a session of its own; on leaving, kill
    the session (the command and any worker it started) unless the command has ended and
    been reaped."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    child = Child(process)
    assert process.stdout is not None

    def read() -> None:
        for line in process.stdout or []:
            child.lines.append(line)

    reader = Thread(target=read, daemon=True)
    reader.start()
    try:
        yield child
    finally:
        # Only while the command is not reaped does its pid still name its session: once
        # reaped, the number may be another's. A command reaped earlier ended by itself, and
        # the servers started here wait for their workers before they end.
        if process.returncode is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(5)
        if process.stdout is not None:
            process.stdout.close()


def uvicorn_command(target: str, port: int) -> list[str]:
    """``python -m uvicorn TARGET`` on 127.0.0.1:PORT, with uvicorn's h11 protocol (as the
    in-process server, :mod:`spec.targets.server`) and its defaults otherwise."""
    return [
        sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
        "--http", "h11", "--log-level", "info", "--no-access-log",
    ]  # fmt: skip


@dataclass(frozen=True)
class ServerCommand:
    """How to start a server in a process of its own.

    Attributes:
        argv: the command line.
        ready: text the server prints once its app is served (connections made
            earlier wait in the listening socket's backlog).
    """

    argv: list[str]
    ready: str


def server_command(server: str, target: str, port: int) -> ServerCommand:
    """The command that serves the ASGI app *target* with *server* on 127.0.0.1:PORT, with
    the flags this module's docstring gives."""
    host = "127.0.0.1"
    if server == UVICORN:
        return ServerCommand(uvicorn_command(target, port), "Uvicorn running")
    if server == HYPERCORN:
        argv = [
            sys.executable, "-m", "hypercorn", target, "--bind", f"{host}:{port}",
            "--workers", "0", "--graceful-timeout", str(GRACE_SECONDS),
        ]  # fmt: skip
        return ServerCommand(argv, "Running on")
    if server == GRANIAN:
        argv = [
            sys.executable, "-m", "granian", "--interface", "asgi", target,
            "--host", host, "--port", str(port), "--workers-kill-timeout", str(GRACE_SECONDS),
        ]  # fmt: skip
        return ServerCommand(argv, "Started worker-1")
    raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
