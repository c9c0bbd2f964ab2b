"""The ``curl`` command a failing check's report carries (:mod:`spec.repeat`).

The commands are built from requests noted by hand, and read as a shell reads them;
one test runs them with curl against a served app that echoes what it received, and
finds the request the suite sent: method, target (dot segments and all), fields, body.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Iterator

import anyio
import pytest

from spec import repeat, wire
from spec.repeat import SentRequest, curl
from spec.targets.asgi_types import Receive, Scope, Send
from spec.targets.client import http_client
from spec.targets.server import serve

BASE = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _fresh_log() -> Iterator[None]:
    repeat.reset()
    yield
    repeat.reset()


def test_a_get_is_curl_with_its_url_quoted() -> None:
    command = curl(SentRequest("GET", f"{BASE}/conformance/text?chunks=%5B%22a%22%5D&x=1"))
    assert shlex.split(command) == [
        "curl", "-sS", "-i", "-N", f"{BASE}/conformance/text?chunks=%5B%22a%22%5D&x=1",
    ]  # fmt: skip


def test_a_gate_is_left_out_so_the_stream_runs_by_itself() -> None:
    command = curl(
        SentRequest("GET", f"{BASE}/conformance/log?gate=g-1&lines=%5B%5D&gate_first=true")
    )
    assert shlex.split(command)[-1] == f"{BASE}/conformance/log?lines=%5B%5D"


def test_method_fields_body_and_version_are_carried() -> None:
    request = SentRequest(
        "POST", f"{BASE}/conformance/bytes?sizes=1", (("Range", "bytes=0-1"),), b"ab'c", 4, "1.0"
    )
    assert shlex.split(curl(request)) == [
        "curl", "-sS", "-i", "-N", "--http1.0", "-X", "POST", "-H", "Range: bytes=0-1",
        "--data-binary", "ab'c", f"{BASE}/conformance/bytes?sizes=1",
    ]  # fmt: skip
    assert shlex.split(curl(SentRequest("HEAD", f"{BASE}/x")))[4] == "--head"
    over_h2 = SentRequest("GET", f"{BASE}/x", http_version="2")
    assert shlex.split(curl(over_h2))[4] == "--http2-prior-knowledge"


def test_a_body_too_long_to_show_says_so() -> None:
    command = curl(SentRequest("POST", f"{BASE}/conformance/bytes", (), b"x" * 10, 9000))
    words, _, note = command.partition("  # ")
    assert shlex.split(words)[-3:] == ["--data-binary", "@BODY", f"{BASE}/conformance/bytes"]
    assert note == "BODY: the 9000-byte body the check sent"


def test_dot_segments_and_raw_bytes_go_out_as_written() -> None:
    dotted = shlex.split(curl(SentRequest("GET", f"{BASE}/conformance/files/../secret")))
    assert "--path-as-is" in dotted
    raw = curl(SentRequest("GET", f"{BASE}/conformance/files/a\x7fb c"))
    assert "--request-target $'/conformance/files/a\\x7fb c'" in raw
    assert curl(SentRequest("GET", f"{BASE}/conformance/files/a\rb")) == ""
    assert curl(SentRequest("GET", f"{BASE}/x", (("X-A", "1\n2"),))) == ""


def test_the_request_repeated_is_the_one_the_failure_names() -> None:
    repeat.note("GET", f"{BASE}/conformance/capabilities")
    repeat.note("GET", f"{BASE}/conformance/text?chunks=1&gate=g")
    repeat.note("GET", f"{BASE}/conformance/sse?events=1")
    repeat.note("DELETE", f"{BASE}/conformance/gates/g")
    assert repeat.last_curl("media type of /conformance/text").endswith(
        "/conformance/text?chunks=1'"
    )
    assert repeat.last_curl("something else").endswith("/conformance/sse?events=1'")
    repeat.reset()
    repeat.note("GET", f"{BASE}/conformance/capabilities")
    assert repeat.last_curl().endswith("/conformance/capabilities")
    repeat.reset()
    assert repeat.last_curl() == ""


def test_a_stream_is_remembered_through_many_polls_of_an_observation() -> None:
    repeat.note("GET", f"{BASE}/conformance/endless?id=1&kind=async")
    for _ in range(500):
        repeat.note("GET", f"{BASE}/conformance/observe?id=1")
    assert repeat.last_curl().endswith("/conformance/endless?id=1&kind=async'")
    assert len(repeat.sent()) <= 20, "a bounded record"


def test_a_request_on_the_same_connection_repeats_both() -> None:
    repeat.note("GET", f"{BASE}/conformance/text?chunks=1")
    repeat.note("GET", f"{BASE}/conformance/text", same_connection=True)
    words = shlex.split(repeat.last_curl())
    assert words[words.index("--next") - 1] == f"{BASE}/conformance/text?chunks=1"
    assert words[-1] == f"{BASE}/conformance/text"


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer each request with JSON of what it was: method, raw target, fields, body."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    target = scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b"")
    echoed = {
        "method": scope["method"],
        "target": target.decode("latin-1"),
        "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
        "body": body.decode("latin-1"),
        "version": scope["http_version"],
    }
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps(echoed).encode()})


def _run(command: str) -> dict[str, object]:
    done = subprocess.run(
        ["bash", "-c", command.replace("-i -N", "-N", 1)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    echoed: dict[str, object] = json.loads(done.stdout)
    return echoed


@pytest.mark.skipif(shutil.which("curl") is None, reason="not run: no curl (.ci/run installs it)")
def test_curl_sends_what_the_suite_sent() -> None:
    with serve(_echo) as url:

        async def send_both() -> None:
            await wire.read_whole(url, "GET", "/conformance/files/../x", http_version="1.0")
            suite_raw = repeat.last_curl()
            async with http_client(url) as client:
                await client.post(
                    "/conformance/bytes", params={"sizes": "[2]"}, content=b"hi",
                    headers={"X-Trace": "a b;c=d"},
                )  # fmt: skip
            commands.extend([suite_raw, repeat.last_curl()])

        commands: list[str] = []
        anyio.run(send_both)
        raw, posted = (_run(command) for command in commands)
    assert raw["target"] == "/conformance/files/../x"
    assert raw["version"] == "1.0"
    assert posted["method"] == "POST"
    assert posted["target"] == "/conformance/bytes?sizes=%5B2%5D"
    assert posted["body"] == "hi"
    headers = posted["headers"]
    assert isinstance(headers, dict)
    assert headers["x-trace"] == "a b;c=d"
