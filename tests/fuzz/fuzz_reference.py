"""The fuzz campaign (``tox -e fuzz``): hostile input against the reference, over real sockets.

The reference (``impl.app:app``) runs under uvicorn in a process of its own.
Each test drives one kind of input (:mod:`tests.fuzz.inputs`) and asserts, for
every input: no 5xx, no hang (a 10 s guard on every exchange), no byte from
outside the served root, no injected header or SSE field, and a body that ends
as its framing says. The last test asserts that the server's descriptors and
threads are back to their baseline and its RSS within :data:`RSS_BOUND` of it,
and writes the campaign's table to ``reports/fuzz.json``.

Inputs per kind: ``STREAMSPEC_FUZZ_EXAMPLES`` (10,000 by default) on top of the
``thorough`` profile. This file is not named ``test_*``: the default run does
not collect it; ``tox -e fuzz`` names it. Linux only (the server is read in /proc).
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.surface import CONFORMANCE_FILES, OUTSIDE_MARKER, file_bytes
from spec.targets.process import Child, free_port, run_child, uvicorn_command
from tests.fuzz import inputs

EXAMPLES = int(os.environ.get("STREAMSPEC_FUZZ_EXAMPLES", "10000"))
GUARD = 10.0
"""Seconds any one exchange may take before it counts as a hang (a guard, not a verdict)."""
RSS_BOUND = 64 << 20
"""How far the server's resident memory may grow over the campaign, in bytes."""
SETTLE = 30.0
"""Seconds the server has to give back idle worker threads and descriptors at the end
(anyio's pool ends a thread idle for 10 s)."""
KINDS = 11
"""The kinds of input below, each a test."""
READ_CAP = 1 << 20
"""The most of one body the campaign reads (the zero files run to 1 GiB)."""

_thorough = settings.get_profile("thorough")
fuzz = settings(
    _thorough,
    max_examples=max(EXAMPLES, _thorough.max_examples),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

COUNTS: Counter[str] = Counter()
STARTED = time.monotonic()


@dataclass
class Server:
    """The reference's process and a keep-alive client to it."""

    child: Child
    base: str
    port: int
    client: httpx.Client

    @property
    def pid(self) -> int:
        return self.child.process.pid


def usage(pid: int) -> dict[str, int]:
    """Descriptors, threads and RSS (bytes) of process *pid*, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(fields["Threads"]),
        "rss": int(fields["VmRSS"].split()[0]) * 1024,
    }


BASELINE: dict[str, int] = {}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    port = free_port()
    with run_child(uvicorn_command("impl.app:app", port)) as child:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=GUARD) as client:
            up = Server(child, base, port, client)
            _warm_up(up)
            BASELINE.update(usage(up.pid))
            yield up


def _warm_up(up: Server) -> None:
    """One request of every kind, so the baseline holds what a served app keeps for good."""
    for path in [
        "/conformance/files/small.txt",
        "/download/sample.txt",
        "/conformance/capabilities",
    ]:
        up.client.get(path)
    up.client.get("/conformance/sse", params={"events": "[{}]"})
    up.client.post("/conformance/feed/warm", content=b'["a"]')


# --- what every answer must satisfy ---------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes


def exchange(up: Server, method: str, url: str, **kwargs: object) -> Answer:
    """One request, its body read to its end (or :data:`READ_CAP`); a hang or a broken
    body fails the input."""
    try:
        with up.client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
            body = bytearray()
            for part in response.iter_raw():
                body += part
                if len(body) >= READ_CAP:
                    break
            answer = Answer(response.status_code, response.headers, bytes(body))
    except httpx.TimeoutException as error:
        pytest.fail(f"hang: {method} {url} {kwargs}: {error!r}")
    except httpx.RemoteProtocolError as error:
        pytest.fail(f"broken body: {method} {url} {kwargs}: {error!r}")
    assert answer.status < 500, (method, url, kwargs, answer.status, answer.body[:300])
    assert OUTSIDE_MARKER not in answer.body, (method, url, kwargs)
    assert inputs.INJECTED.lower() not in answer.headers, (method, url, kwargs, answer.headers)
    return answer


_SSE_FIELD = re.compile(rb"^(?:data|id|event|retry)(?::|$)|^:|^$")


def sse_fields(body: bytes) -> Counter[str]:
    """The fields of an SSE body by name; a line that is no field fails the input."""
    names: Counter[str] = Counter()
    for line in re.split(rb"\r\n|\r|\n", body):
        assert _SSE_FIELD.match(line), line[:200]
        names[line.split(b":", 1)[0].decode()] += 1
    return names


_KNOWN = [file_bytes(name, size) for name, size in CONFORMANCE_FILES.items() if size <= READ_CAP]


def served_from_root(body: bytes) -> bool:
    """Whether *body* (read up to :data:`READ_CAP`) is a slice of a file of the root."""
    return not body.strip(b"\0") or any(body in known for known in _KNOWN) or _is_records(body)


def _is_records(body: bytes) -> bool:
    # the large conformance files: 32-byte records "hhhhhhhh:<22 hex>\n"
    return bool(re.fullmatch(rb"(?:[0-9a-f]{0,8}:?[0-9a-f]{0,22}\n?)*", body[:4096]))


def query(params: dict[str, str]) -> str:
    """*params* as a query string; text that is not UTF-8 (a lone surrogate) sent as it is."""
    return "&".join(
        f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in params.items()
    )


# --- the kinds -------------------------------------------------------------------------------


@fuzz
@given(value=inputs.ranges, on_download=st.booleans())
def test_range_headers(server: Server, value: str, on_download: bool) -> None:
    COUNTS["Range headers"] += 1
    path = "/download/sample.txt" if on_download else "/conformance/files/small.txt"
    answer = exchange(server, "GET", path, headers={"Range": value})
    if answer.status == 206 and not on_download and b"--" not in answer.body[:4]:
        assert answer.body in file_bytes("small.txt", 1000), value


@fuzz
@given(path=inputs.download_paths, name=inputs.download_names, on_download=st.booleans())
def test_download_paths_and_names(
    server: Server, path: str, name: str | None, on_download: bool
) -> None:
    COUNTS["download paths and as= names"] += 1
    prefix = "/download/" if on_download else "/conformance/files/"
    url = prefix + quote(path.encode("utf-8", "surrogatepass"), safe="/%")
    if name is not None and not on_download:
        url += "?as=" + quote(name.encode("utf-8", "surrogatepass"), safe="%")
    answer = exchange(server, "GET", url)
    # httpx removes dot segments: "/conformance/files/../.." asks for "/", the index.
    sent = server.client.build_request("GET", url).url.raw_path
    if answer.status in (200, 206) and not on_download and sent.startswith(prefix.encode()):
        assert served_from_root(answer.body), (path, answer.body[:100])
    disposition = answer.headers.get("content-disposition", "")
    assert "\r" not in disposition
    assert "\n" not in disposition


@fuzz
@given(value=inputs.last_event_ids)
def test_last_event_ids(server: Server, value: str) -> None:
    COUNTS["Last-Event-ID"] += 1
    name = f"lei-{COUNTS['Last-Event-ID'] % 200}"
    server.client.post(f"/conformance/feed/{name}", content=b'["a","b"]')
    body = bytearray()
    try:
        with server.client.stream(
            "GET", f"/conformance/feed/{name}", headers={"Last-Event-ID": value}
        ) as response:
            assert response.status_code < 500, (value, response.status_code)
            server.client.post(f"/conformance/feed/{name}", content=b'["end-of-input"]')
            for part in response.iter_raw():
                body += part
                if b"data: end-of-input" in body and body.endswith((b"\n\n", b"\r\n\r\n")):
                    break
    except httpx.TimeoutException as error:
        pytest.fail(f"hang: Last-Event-ID {value!r}: {error!r}")
    fields = sse_fields(bytes(body))
    assert fields["event"] <= 1, (value, body[:300])  # the gap event, at most
    for gap in re.findall(rb"event: gap\r?\ndata: (.*)", body):
        assert json.loads(gap)["last_event_id"] == value


def _counted_fields(raw: str) -> Counter[str]:
    """The SSE fields the events parameter *raw* asks for, at most (by name)."""
    asked: Counter[str] = Counter()
    try:
        members = json.loads(raw)
    except (ValueError, RecursionError):
        return asked
    for member in members if isinstance(members, list) else []:
        for key in member if isinstance(member, dict) else []:
            asked[key] += 1
    return asked


@fuzz
@given(value=inputs.events, keepalive=st.one_of(st.none(), inputs.keepalives))
def test_events_parameter(server: Server, value: str, keepalive: str | None) -> None:
    COUNTS["events="] += 1
    params = {"events": value} | ({} if keepalive is None else {"keepalive": keepalive})
    answer = exchange(server, "GET", "/conformance/sse?" + query(params))
    if answer.status == 200:
        fields, asked = sse_fields(answer.body), _counted_fields(value)
        for name in ("event", "id", "retry"):
            assert fields[name] <= asked[name], (name, value, answer.body[:300])


@fuzz
@given(value=inputs.chunks, declare=st.booleans())
def test_chunks_parameter(server: Server, value: str, declare: bool) -> None:
    COUNTS["chunks="] += 1
    params = {"chunks": value, "declare_length": "true" if declare else "false"}
    exchange(server, "GET", "/conformance/text?" + query(params))


@fuzz
@given(value=inputs.lines)
def test_lines_parameter(server: Server, value: str) -> None:
    COUNTS["lines="] += 1
    exchange(server, "GET", "/conformance/log?" + query({"lines": value}))


@fuzz
@given(value=inputs.headers, on_text=st.booleans())
def test_headers_parameter(server: Server, value: str, on_text: bool) -> None:
    COUNTS["headers="] += 1
    path = "/conformance/text" if on_text else "/conformance/sse"
    answer = exchange(server, "GET", path + "?" + query({"headers": value}))
    if answer.status == 200:
        asked = {k.lower() for k in json.loads(value)}
        added = {n for n in answer.headers if n.startswith("x-") and n not in _OWN}
        assert added <= asked, (value, answer.headers)


_OWN = {"x-accel-buffering", "x-content-type-options", "x-stream-id"}


@fuzz
@given(value=inputs.sizes, length=st.integers(min_value=0, max_value=64))
def test_sizes_parameter(server: Server, value: str, length: int) -> None:
    COUNTS["sizes="] += 1
    exchange(server, "POST", "/conformance/bytes?" + query({"sizes": value}), content=b"x" * length)


@fuzz
@given(value=inputs.feed_bodies)
def test_feed_bodies(server: Server, value: str) -> None:
    COUNTS["feed POST body"] += 1
    name = f"fz-{COUNTS['feed POST body'] % 8}"
    exchange(
        server, "POST", f"/conformance/feed/{name}", content=value.encode("utf-8", "surrogatepass")
    )


@fuzz
@given(value=inputs.chat_bodies)
def test_chat_bodies(server: Server, value: str) -> None:
    """A chat body: a 4xx, or a 200 whose body is SSE fields only, none injected."""
    COUNTS["chat POST body"] += 1
    answer = exchange(
        server, "POST", "/conformance/chat", content=value.encode("utf-8", "surrogatepass")
    )
    if answer.status == 200:
        assert sse_fields(answer.body), (value[:200], answer.body[:300])
        lines = re.split(rb"\r\n|\r|\n", answer.body.lower())
        injected = [line for line in lines if line.startswith((b"event: x-injected", b"id:"))]
        assert injected == [], (value[:200], injected[:3])


_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


@fuzz
@given(request=inputs.raw_heads)
def test_malformed_request_heads(server: Server, request: bytes) -> None:
    COUNTS["raw request heads"] += 1
    received = bytearray()
    with socket.create_connection(("127.0.0.1", server.port), timeout=GUARD) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            while part := sock.recv(65536):
                received += part
        except TimeoutError:
            pytest.fail(f"hang: {request[:200]!r}")
        except ConnectionResetError:
            pass
    status = _STATUS.match(received)
    if status is not None:
        assert int(status.group(1)) < 500, (request[:300], bytes(received[:300]))
    assert OUTSIDE_MARKER not in received
    head = bytes(received).split(b"\r\n\r\n", 1)[0].lower()
    assert b"\r\nx-injected:" not in head, (request[:300], head)


# --- afterwards ------------------------------------------------------------------------------


def test_resources_back_to_baseline(server: Server) -> None:
    """Descriptors and threads back to the baseline (idle worker threads are given time to
    end: :data:`SETTLE`), RSS within :data:`RSS_BOUND`; the campaign's table written."""
    server.client.close()
    deadline = time.monotonic() + SETTLE
    after = usage(server.pid)
    while time.monotonic() < deadline and (
        after["fds"] > BASELINE["fds"] or after["threads"] > BASELINE["threads"]
    ):
        # anyio ends a worker thread idle for 10 s only when the next job is handed to the
        # pool: one download (in a connection of its own, closed after it) hands it one.
        time.sleep(1)
        httpx.get(server.base + "/conformance/files/small.txt", timeout=GUARD)
        after = usage(server.pid)
    table = {
        "inputs": dict(COUNTS),
        "examples_per_kind": fuzz.max_examples,
        "baseline": BASELINE,
        "after": after,
        "rss_bound": RSS_BOUND,
        "seconds": round(time.monotonic() - STARTED, 1),
    }
    report = Path(os.environ.get("STREAMSPEC_FUZZ_REPORT", "reports/fuzz.json"))
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(table, indent=2) + "\n")
    print(json.dumps(table, indent=2))
    assert after["fds"] <= BASELINE["fds"], table
    assert after["threads"] <= BASELINE["threads"], table
    assert after["rss"] <= BASELINE["rss"] + RSS_BOUND, table
    assert len(COUNTS) == KINDS, table
    assert min(COUNTS.values()) >= EXAMPLES, table
