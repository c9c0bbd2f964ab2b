"""A real redis-server (Debian's) on a free loopback port, for the Redis feed's tests.

:func:`redis_server` starts it in a scratch directory with the append-only
file on (``appendfsync always``), so that a server stopped and started again on
the same port comes back with its streams, as a production Redis with
persistence does. When there is no redis-server, or it cannot start, the test
is skipped, with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from spec.targets.command import accepts_connections, free_port

#: How long redis-server may take to accept connections, in seconds (a hang guard).
START_GUARD = 20.0


@dataclass
class RedisServer:
    """A redis-server process that can be stopped and started again on its port."""

    executable: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and return once it accepts connections (skip the test if not)."""
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--save", "", "--appendonly", "yes",
                "--appendfsync", "always", "--daemonize", "no", "--protected-mode", "yes",
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + START_GUARD
        while not accepts_connections("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                said = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                pytest.skip(f"redis-server did not start on port {self.port}: {said}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM the server (it writes its append-only file) and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=START_GUARD)
        self.process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A started :class:`RedisServer` keeping its files in *directory*, stopped at the end."""
    executable = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if executable is None:
        pytest.skip("no redis-server on this machine (apt-get install redis-server)")
    pytest.importorskip("redis", reason="the redis extra is not installed (pip install .[redis])")
    server = RedisServer(executable, free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
