"""Issue 7, real clients: curl receives the reference app's text log streams line by line.

Run against a real uvicorn on loopback (:func:`spec.targets.server.serve`);
skipped, saying why, when curl is not on PATH. That the check can fail is
shown in ``tests/test_curl_fails.py``.
"""

from __future__ import annotations

import subprocess

import pytest

from impl.app import create_app
from impl.settings import Settings
from spec.targets.server import serve
from tests.curl_client import (
    HANG_GUARD_SECONDS,
    NO_CURL,
    assert_curl_receives_lines_as_produced,
    curl,
    curl_command,
)

pytestmark = pytest.mark.skipif(curl() is None, reason=NO_CURL)

DEMO_LINES = 4


async def test_curl_receives_each_log_line_while_the_stream_is_open() -> None:
    """Each line of ``GET /conformance/log`` is on curl's stdout before the next is made."""
    with serve(create_app()) as base_url:
        await assert_curl_receives_lines_as_produced(base_url)


def test_curl_receives_the_demo_log_stream_whole() -> None:
    """``GET /logs/stream``: curl's output is the configured number of lines, each ending in LF.

    The demo route paces its lines by time, so only the whole output is judged.
    """
    app = create_app(Settings(log_lines=DEMO_LINES, log_interval=0.01))
    with serve(app) as base_url:
        completed = subprocess.run(
            curl_command(f"{base_url}/logs/stream"),
            capture_output=True,
            timeout=HANG_GUARD_SECONDS,
            check=False,
        )
    whole, code = completed.stdout, completed.returncode
    assert code == 0, f"curl exited with {code}"
    assert whole.endswith(b"\n"), f"curl's output does not end in LF: {whole!r}"
    lines = whole[:-1].split(b"\n")
    assert len(lines) == DEMO_LINES, f"curl's output: {whole!r}"
    assert all(line and b"\r" not in line for line in lines), f"curl's output: {whole!r}"
