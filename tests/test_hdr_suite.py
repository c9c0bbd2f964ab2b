"""The HDR chapter run as a user runs it; nginx shows that X-Accel-Buffering matters.

The child runs read the JSON rule report. Items are expected to be held back
on the broken targets, so the step guard is shortened to one second there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.app import create_app
from spec.intermediaries.nginx import (
    DEFAULT_LOCATION,
    IGNORE_X_ACCEL_LOCATION,
    NginxUnavailable,
    find_nginx,
    running_nginx,
)
from spec.rules import RuleViolation
from spec.sse import Decoder, Event, MessageEvent
from spec.stepping import open_stepped, step_events
from spec.streams import fetch
from spec.surface import SSE_PATH, sse_params
from spec.targets.client import SocketClient
from spec.targets.server import serve
from tests.run_suite import run_spec

needs_nginx = pytest.mark.skipif(find_nginx() is None, reason="nginx is not installed")


@pytest.fixture
def quick_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "1")


@needs_nginx
@pytest.mark.usefixtures("quick_guard")
def test_missing_x_accel_buffering_fails_the_header_rule_and_nginx(tmp_path: Path) -> None:
    """Without the header, HDR-SSE-03 fails, and nginx holds the stream back (HDR-NGINX-01)."""
    run = run_spec(
        tmp_path, "--rules=HDR-SSE-*,HDR-NGINX-*", "--target=tests.broken.hdr_apps:no_accel"
    )
    assert run.returncode == 1
    assert run.failing() == {"HDR-SSE-03", "HDR-NGINX-01"}
    assert "HDR-SSE-03 (SHOULD)" in run.output
    assert "nothing within 1.0s while the producer waited" in run.output, "nginx held it back"


@pytest.mark.usefixtures("quick_guard")
def test_compressed_sse_fails_coding_and_gzip_rules(tmp_path: Path) -> None:
    """gzip without a flush per event: events arrive in lumps (HDR-SSE-05, HDR-GZIP-01)."""
    run = run_spec(
        tmp_path, "--rules=HDR-SSE-*,HDR-GZIP-*", "--target=tests.broken.hdr_apps:compressed_sse"
    )
    assert run.returncode == 1
    assert {"HDR-SSE-05", "HDR-GZIP-01"} <= run.failing()
    assert run.results()["HDR-SSE-03"] == "pass", "the other headers are right"


@pytest.mark.usefixtures("quick_guard")
def test_content_length_on_sse_fails_length_and_transfer_rules(tmp_path: Path) -> None:
    """A stream rendered whole with a Content-Length breaks the length and transfer rules."""
    run = run_spec(
        tmp_path,
        "--rules=HDR-SSE-0[1-4],HDR-XFER-*,HDR-TEXT-01",
        "--target=tests.broken.hdr_apps:sse_content_length",
    )
    assert run.returncode == 1
    assert {"HDR-SSE-04", "HDR-XFER-01", "HDR-XFER-02", "HDR-XFER-03"} <= run.failing()
    assert run.results()["HDR-TEXT-01"] == "pass", "the text stream is untouched"


def test_without_nginx_its_rules_are_not_observable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No nginx binary: the nginx rules say so, with the reason; they are never passed."""
    monkeypatch.setenv("STREAMSPEC_NGINX", str(tmp_path / "no-nginx-here"))
    run = run_spec(tmp_path, "--rules=HDR-NGINX-*")
    results = run.results()
    assert results["HDR-NGINX-01"] == results["HDR-NGINX-02"] == "not observable"
    assert run.returncode == 0
    reasons = [c["message"] for r in run.report["rules"] for c in r["checks"]]
    assert any("nginx is not installed" in reason for reason in reasons), reasons


async def _received_before_the_second_event(client: SocketClient, prefix: str) -> list[str]:
    """Step through [a, b] at *prefix*; return what arrived, or raise RuleViolation if held."""
    events = [Event("a"), Event("b")]
    async with open_stepped(client, "sse", events, path_prefix=prefix) as stream:
        await step_events(stream, events)
    return [e.data for e in events]


@needs_nginx
async def test_nginx_holds_the_stream_back_when_the_header_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same reference stream: event by event through nginx's defaults; held back once
    nginx ignores X-Accel-Buffering; and whole through that location once it has ended.
    So the header, not luck, is what gets the events through."""
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "2")
    try:
        with serve(create_app()) as url, running_nginx(url) as nginx:
            client = SocketClient(nginx)
            assert await _received_before_the_second_event(client, DEFAULT_LOCATION) == ["a", "b"]
            with pytest.raises(RuleViolation, match=r"nothing within|held back"):
                await _received_before_the_second_event(client, IGNORE_X_ACCEL_LOCATION)
            params = sse_params([Event("a"), Event("b")])
            whole = await fetch(client, "GET", IGNORE_X_ACCEL_LOCATION + SSE_PATH, params=params)
    except NginxUnavailable as error:
        pytest.fail(f"nginx is installed but would not run: {error}")
    decoder = Decoder()
    events = [
        i for i in [*decoder.feed(whole.body), *decoder.close()] if isinstance(i, MessageEvent)
    ]
    assert [e.data for e in events] == ["a", "b"]
