"""Why CANCEL-SHUTDOWN runs hypercorn with ``--workers 0``: in hypercorn's default worker
process no app hears of SIGTERM (tests/servers/signalled_app.py, no streamspec code)."""

from __future__ import annotations

import signal
import sys

import anyio
import httpx
import pytest

from spec.targets.process import free_port, run_child

pytest.importorskip("hypercorn")

APP = "tests.servers.signalled_app:app"


def held_body_after_sigterm(*flags: str) -> tuple[bytes, bool]:
    """Serve the app with ``hypercorn APP`` and *flags*, read ``hello``, send SIGTERM, and
    read the body to its end: (the body, whether it ended complete)."""
    port = free_port()
    argv = [sys.executable, "-m", "hypercorn", APP, "--bind", f"127.0.0.1:{port}", *flags]
    with run_child(argv) as child:
        anyio.run(child.wait_for_line, "Running on")
        body, complete = b"", False
        # 30 s to connect and read hello (a hang guard); 15 s for the rest, past the
        # graceful timeout: a body still held then is never ended by the app.
        timeout = httpx.Timeout(30, read=15)
        with httpx.stream("GET", f"http://127.0.0.1:{port}/", timeout=timeout) as answer:
            chunks = answer.iter_raw()
            body += next(chunks)
            child.process.send_signal(signal.SIGTERM)
            try:
                for chunk in chunks:
                    body += chunk
                complete = True
            except httpx.RemoteProtocolError:
                pass  # cut off after the graceful timeout
            except httpx.ReadTimeout:
                # Still held: a SIGTERM that reached hypercorn's main process before its
                # handlers were installed ended it alone, and the worker serves on. Either
                # way the app never heard of the signal.
                pass
    return body, complete


def test_the_default_worker_process_never_hears_of_sigterm() -> None:
    assert held_body_after_sigterm("--graceful-timeout", "1") == (b"hello\n", False)


def test_with_no_worker_process_the_app_ends_its_response() -> None:
    assert held_body_after_sigterm("--workers", "0") == (b"hello\nbye\n", True)
