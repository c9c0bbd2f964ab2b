"""The curl check of ``tests/curl_client.py`` fails when a server or curl holds lines back.

The apps of ``tests/broken/chunking.py`` stream ``/conformance/log`` with the
reference app's gates but deliver the lines wrongly. Each line they hold back
never comes while the producer waits, so the arrival window is shortened for
these tests to fail sooner than a real run would. curl itself, run without
``-N``, buffers its stdout on a pipe, and is caught the same way.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from impl.app import create_app
from spec.targets.server import serve
from tests import curl_client
from tests.broken import chunking
from tests.curl_client import NO_CURL, assert_curl_receives_lines_as_produced, curl

pytestmark = pytest.mark.skipif(curl() is None, reason=NO_CURL)


@pytest.fixture
def quick_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """A held-back line never comes while the producer waits: stop watching after 0.5 s."""
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "0.5")


async def test_the_broken_apps_frame_passes() -> None:
    """The broken apps' frame with the correct delivery passes: each mutant differs in one way."""
    with serve(chunking.correct) as base_url:
        await assert_curl_receives_lines_as_produced(base_url)


@pytest.mark.usefixtures("quick_guard")
@pytest.mark.parametrize(
    ("app", "held"),
    [
        pytest.param(chunking.buffered_producer, 1, id="buffered_producer"),
        pytest.param(chunking.first_then_pairs_app, 2, id="first_then_pairs"),
    ],
)
async def test_a_held_back_line_fails_the_check(app: FastAPI, held: int) -> None:
    """A 4 KiB buffer holds line 1 back; joining lines in pairs after the first holds line 2."""
    with serve(app) as base_url, pytest.raises(AssertionError) as raised:
        await assert_curl_receives_lines_as_produced(base_url)
    message = str(raised.value)
    assert message.startswith(
        f"line {held} not on curl's stdout while the producer waits before line {held + 1}"
    ), message


@pytest.mark.usefixtures("quick_guard")
async def test_curl_without_no_buffer_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``-N`` curl buffers its stdout on a pipe: the check sees the client hold line 1."""
    with_no_buffer = curl_client.curl_command
    monkeypatch.setattr(
        curl_client, "curl_command", lambda url: [a for a in with_no_buffer(url) if a != "-N"]
    )
    with serve(create_app()) as base_url, pytest.raises(AssertionError) as raised:
        await assert_curl_receives_lines_as_produced(base_url)
    assert str(raised.value).startswith("line 1 not on curl's stdout"), str(raised.value)
