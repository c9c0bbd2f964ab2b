"""Run a target in a process of its own, to send it signals: ``uvicorn module:attr``.

The process is started the way people deploy an ASGI app, with uvicorn's
command line and its defaults (no ``--timeout-graceful-shutdown``), so a check
sees what a real deployment does on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from threading import Thread

import anyio

from spec import patience

_START_GUARD = 30.0


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

    def terminate(self) -> None:
        """Send SIGTERM, as a process manager does to stop a server."""
        self.process.send_signal(signal.SIGTERM)

    async def exited(self, within: float) -> int | None:
        """The exit status if the process ends within *within* seconds, else ``None``.

        The window is load-aware (:func:`spec.patience.within`); the process is
        polled, so that the wait really ends with the window.
        """

        async def ended() -> int:
            while (status := self.process.poll()) is None:  # noqa: ASYNC110 - a process, no event
                await anyio.sleep(0.02)
            return status

        waited = await patience.within(within, ended)
        return waited.value if waited.arrived else None

    async def wait_for_line(self, text: str, within: float = _START_GUARD) -> None:
        """Wait until the process has printed a line containing *text*."""
        with anyio.fail_after(within):
            while not any(text in line for line in self.lines):
                if self.process.poll() is not None:
                    raise RuntimeError(f"the process exited:\n{''.join(self.lines)}")
                await anyio.sleep(0.02)

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def run_child(command: Sequence[str]) -> Iterator[Child]:
    """Start *command* with its output collected; kill it on leaving if it still runs."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
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
        if process.poll() is None:
            process.kill()
        process.wait()
        reader.join(5)
        if process.stdout is not None:
            process.stdout.close()


def uvicorn_command(target: str, port: int) -> list[str]:
    """``python -m uvicorn TARGET`` on 127.0.0.1:PORT, with uvicorn's defaults otherwise."""
    return [
        sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "info", "--no-access-log",
    ]  # fmt: skip
