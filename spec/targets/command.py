"""Start a server by command on a port the suite chooses, and stop it at the end.

Like CommonMark's ``--program``: ``--target-command="node server.js --port {port}"``
runs the command (split as a shell would split it, but without a shell), with
``{port}`` replaced by a free loopback port and ``{python}`` by the running
interpreter, waits until the port accepts TCP connections, and yields the base
URL. On leaving, the process gets SIGTERM, then SIGKILL if it lingers. Its
standard error is kept in a file so that a failure can show what it said.

Written by hand: it is thirty lines of :mod:`subprocess` and :mod:`socket`,
and no library does "start, wait for the port, stop" without a test framework
of its own.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

START_GUARD_SECONDS = 30.0
STOP_GUARD_SECONDS = 10.0
_POLL_SECONDS = 0.05


class CommandError(RuntimeError):
    """The command did not start a server; the message carries its exit status and stderr."""


@dataclass
class RunningCommand:
    """A started server: its base URL, its process and where its stderr goes."""

    argv: list[str]
    url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path
    _stderr_tail_lines: int = field(default=40)

    def stderr(self) -> str:
        """The last lines the process wrote to standard error."""
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-self._stderr_tail_lines :])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at this moment.

    The port is released before the command binds it; another process could
    take it in between, in which case the command fails to start and says so.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def expand(command: str, **fields: object) -> list[str]:
    """The argv of *command* split as a shell would, ``{python}`` and each ``{field}`` filled in.

    ``expand("node s.js --port {port}", port=8000)``; the client chapter's
    adapters are expanded the same way, with ``{url}``.
    """
    values = {"python": sys.executable, **{name: str(value) for name, value in fields.items()}}
    argv = shlex.split(command)
    for name, value in values.items():
        argv = [arg.replace(f"{{{name}}}", value) for arg in argv]
    return argv


def accepts_connections(host: str, port: int) -> bool:
    """Whether a TCP connection to *host*:*port* can be opened now."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def refuses_connections(host: str, port: int) -> bool:
    """Whether a TCP connection to *host*:*port* is refused (or cannot be made at all).

    A server that listens but does not accept (its backlog full) is not
    refusing: its connection attempt times out, and it is judged by the checks.
    """
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return False
    except TimeoutError:
        return False
    except OSError:
        return True


@contextmanager
def run_command(command: str, *, cwd: Path | None = None) -> Iterator[RunningCommand]:
    """Run *command* while the block runs; yield it once its port accepts connections.

    Raises:
        CommandError: the command has no ``{port}``, cannot be started, exits
            before it listens, or does not listen within the start guard.
    """
    if "{port}" not in command:
        raise CommandError(f"the target command must contain {{port}}: {command!r}")
    port = free_port()
    argv = expand(command, port=port)
    with tempfile.TemporaryDirectory(prefix="streamspec-target-") as scratch:
        stderr_path = Path(scratch) / "stderr.txt"
        with stderr_path.open("wb") as stderr:
            try:
                process = subprocess.Popen(
                    argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr
                )
            except OSError as error:
                raise CommandError(f"cannot start {argv!r}: {error}") from error
        running = RunningCommand(argv, f"http://127.0.0.1:{port}", process, stderr_path)
        try:
            _wait_until_listening(running, port)
            yield running
        finally:
            _stop(process)


def _wait_until_listening(running: RunningCommand, port: int) -> None:
    deadline = time.monotonic() + START_GUARD_SECONDS
    while not accepts_connections("127.0.0.1", port):
        status = running.process.poll()
        if status is not None:
            raise CommandError(
                f"{shlex.join(running.argv)} exited with status {status} before listening "
                f"on port {port}; it said:\n{running.stderr()}"
            )
        if time.monotonic() > deadline:
            raise CommandError(
                f"{shlex.join(running.argv)} did not listen on port {port} within "
                f"{START_GUARD_SECONDS:.0f}s; it said:\n{running.stderr()}"
            )
        time.sleep(_POLL_SECONDS)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
