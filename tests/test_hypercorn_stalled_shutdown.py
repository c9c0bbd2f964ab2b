"""Why the reference fails CANCEL-SHUTDOWN-03 on hypercorn on Python 3.12 and later, and
passes on 3.11: a bare app (tests/servers/stalled_app.py, no streamspec code) whose client
stopped reading holds hypercorn's shutdown past ``--graceful-timeout`` on 3.12+
(pgjones/hypercorn#308: ``asyncio.Server.wait_closed()`` waits for every connection since
3.12). The assertion is hypercorn's behaviour as it is today, so that a release that fixes
it fails here on 3.12+, and the server matrix's README is brought up to date."""

from __future__ import annotations

import socket
import sys
import time

import anyio
import pytest

from spec.targets.process import free_port, run_child

pytest.importorskip("hypercorn")

APP = "tests.servers.stalled_app:app"
#: Past the graceful timeout (1 s) many times over: a hang guard for 3.11, where it exits.
WAIT = 10.0


def seconds_to_exit_with_a_stalled_reader() -> float | None:
    """Serve the app, read the head of its endless response on a socket with a small receive
    buffer, stop reading, send SIGTERM: the seconds until hypercorn exits, or ``None`` if it
    is still running :data:`WAIT` seconds on."""
    port = free_port()
    argv = [
        sys.executable, "-m", "hypercorn", APP, "--bind", f"127.0.0.1:{port}",
        "--workers", "0", "--graceful-timeout", "1",
    ]  # fmt: skip
    with run_child(argv) as child, socket.socket() as client:
        anyio.run(child.wait_until_serving, "Running on", port)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        client.connect(("127.0.0.1", port))
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 200")
        child.terminate()
        started = time.monotonic()
        while child.process.poll() is None:
            if time.monotonic() - started > WAIT:
                return None
            time.sleep(0.05)
        return time.monotonic() - started


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Server.wait_closed() changed in 3.12")
def test_from_python_3_12_a_stalled_reader_holds_hypercorns_shutdown() -> None:
    assert seconds_to_exit_with_a_stalled_reader() is None


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Server.wait_closed() changed in 3.12")
def test_before_python_3_12_the_graceful_timeout_ends_it() -> None:
    assert seconds_to_exit_with_a_stalled_reader() is not None
