"""File download

A file download looks like the simplest stream there is, and it is where
tutorial code goes wrong most quietly: it reads the file with blocking calls
on the event loop, announces a `Content-Length` taken from the size before
streaming and then sends whatever the file holds by the time it is read,
writes the file name into `Content-Disposition` unescaped, and joins the name
from the URL onto a directory. None of it shows in a demo; all of it shows in
production: a stalled server, a corrupted keep-alive connection, a header
injection, a file read from outside the served directory.

This chapter states what a download must do, in the words of RFC 9110 (ranges,
validators, conditional requests), RFC 6266 and RFC 8187 (the file name), and
two requirements of its own that no RFC spells out: reads never block the event
loop, and memory stays flat whatever the size of the file.

The checks download the conformance files of the surface (`GET
/conformance/files/{name}`, see the chapter "Conformance surface"), whose every
byte the suite can predict, at the ASGI message level and over a real socket.
Hostile names are sent over the socket as raw request targets (clients such as
httpx remove `..` segments before sending). The file that grows and shrinks
during a download is `changing.bin`, resized in place by the surface's `POST`.

RFC 9110 lets any server ignore Range (section 14.2: a server "MAY ignore
the Range header field") and answer 206 only where it supports ranges. This
chapter is stricter, and says so: a download here MUST support byte ranges
(`FILE-RANGE-01`, `02`, `03`, `05`, `06`), because a download that cannot
resume restarts from zero after every dropped connection, and
`Accept-Ranges: bytes` (`FILE-META-01`) announces the support the checks then
hold it to. A server that serves no ranges fails those rules; nothing in them
is required by the RFC alone.

Several ranges may be coalesced when they overlap, or when the gap between
them is smaller than the overhead of a part (RFC 9110 section 15.3.7); where
the checks want separate parts they ask for ranges at least 400 bytes apart.
RFC 9110 section 14.2 lets a server ignore or reject a Range that looks like
an attack (section 17.15), and this chapter fixes what that allows:

* a server serves every Range of up to six range-specs; a Range of more than
  six may be ignored (200, the whole file) or rejected (416), so a server may
  cap the number of ranges at six or more;
* a Range in which more than two ranges overlap another may be ignored or
  rejected too: counted are the satisfiable ranges (each resolved against the
  file's length: `a-b` cut at its end, `a-` to the end, `-n` the last `n`
  bytes) that share at least one byte with another range of the header, so
  `bytes=0-,0-,0-` counts three and `bytes=100-199,150-250,900-` two;
* a Range of hundreds of overlapping ranges (CVE-2011-3192) should be answered
  with the whole file, a 416, or a 206 that sends no byte twice, never with a
  part for each range.

The reference serves up to 32 range-specs, in sorted, coalesced parts, and
ignores more.

Two checks only apply to an app the suite serves in its own process, which is
every ASGI target: the blocking check runs the app under a blocking-call
detector ([blockbuster](https://pypi.org/project/blockbuster/), which flags
file-system calls, among them path resolution with `os.path.abspath` even of
an absolute path, and on some CPython versions `os.path.realpath` and
`Path.resolve`), and the memory
check reads the process's resident set size from `/proc` while the suite's
uvicorn serves the file. By default the memory check downloads a 64 MiB file;
set `STREAMSPEC_LARGE_FILES=1` to download 1 GiB instead (a few seconds more).
"""

from __future__ import annotations

import os
import re
import socket
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import unquote_to_bytes, urlencode

import anyio
import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec import wire_h2
from spec.capabilities import requires
from spec.disposition import parse as parse_disposition
from spec.media import essence
from spec.patience import guarded, patience
from spec.rules import MUST, SHOULD, Chapter, Source, expect, not_observable, violation
from spec.streams import Fetched, fetch
from spec.surface import (
    CHANGING_FILE,
    CONFORMANCE_FILES,
    FILES_PATH,
    OUTSIDE_MARKER,
    ZERO_FILES,
    file_bytes,
    file_path,
    file_target,
)
from spec.targets import harness
from spec.targets.client import AsgiClient, Headers, StreamClient, http_client, speaks_http2
from spec.targets.target import Target
from spec.wire import raw_fetch

chapter = Chapter(__name__)
pytestmark = requires("files")

_RFC9110 = "https://www.rfc-editor.org/rfc/rfc9110"
RANGES = Source("RFC 9110", "14 Range Requests", f"{_RFC9110}#section-14")
RANGE_416 = Source("RFC 9110", "15.5.17 416 Range Not Satisfiable", f"{_RFC9110}#section-15.5.17")
MULTIPART = Source("RFC 9110", "14.6 Media Type multipart/byteranges", f"{_RFC9110}#section-14.6")
IF_RANGE = Source("RFC 9110", "13.1.5 If-Range", f"{_RFC9110}#section-13.1.5")
ETAG = Source("RFC 9110", "8.8.3 ETag", f"{_RFC9110}#section-8.8.3")
LAST_MODIFIED = Source("RFC 9110", "8.8.2 Last-Modified", f"{_RFC9110}#section-8.8.2")
IF_NONE_MATCH = Source("RFC 9110", "13.1.2 If-None-Match", f"{_RFC9110}#section-13.1.2")
IF_MODIFIED_SINCE = Source("RFC 9110", "13.1.3 If-Modified-Since", f"{_RFC9110}#section-13.1.3")
HEAD = Source("RFC 9110", "9.3.2 HEAD", f"{_RFC9110}#section-9.3.2")
CONTENT_TYPE = Source("RFC 9110", "8.3 Content-Type", f"{_RFC9110}#section-8.3")
CONTENT_LENGTH = Source("RFC 9110", "8.6 Content-Length", f"{_RFC9110}#section-8.6")
INCOMPLETE = Source(
    "RFC 9112",
    "8 Handling Incomplete Messages",
    "https://www.rfc-editor.org/rfc/rfc9112#section-8",
)
RANGES_WHY = (
    "RFC 9110 lets a server ignore Range (14.2, MAY); a download here must serve ranges, "
    "because one that cannot resume restarts from zero after every dropped connection, and "
    "its Accept-Ranges: bytes (FILE-META-01) announces the support."
)
DISPOSITION = Source(
    "RFC 6266 / RFC 8187",
    "4 Header Field Definition; 3.2 Parameter Value Character Encoding",
    "https://www.rfc-editor.org/rfc/rfc6266#section-4",
)
FIELD_VALUES = Source("RFC 9110", "5.5 Field Values", f"{_RFC9110}#section-5.5")
STREAMSPEC = Source("streamspec", "File download", "#file")
TRAVERSAL = Source(
    "RFC 3986 / streamspec",
    "3.3 Path; 7.1 Security considerations (served root)",
    "https://www.rfc-editor.org/rfc/rfc3986#section-3.3",
)

SMALL = "small.txt"
SMALL_SIZE = CONFORMANCE_FILES[SMALL]
SMALL_BYTES = file_bytes(SMALL, SMALL_SIZE)


async def download(
    client: StreamClient,
    name: str,
    *,
    method: str = "GET",
    headers: Headers = (),
    download_as: str | None = None,
) -> Fetched:
    """Request the conformance file *name* and read the whole response.

    Over the socket the request is written by :func:`spec.wire.raw_fetch` on a
    fresh connection: the same wire as the socket client's, without building an
    HTTP client (and its TLS context) for each of the properties' examples.
    """
    params = [] if download_as is None else [("as", download_as)]
    base_url = getattr(client, "base_url", None)
    if client.transport == "socket" and base_url is not None:
        query = b"?" + urlencode(params).encode("ascii") if params else b""
        return await raw_fetch(base_url, method, file_target(name) + query, headers)
    return await fetch(client, method, file_path(name), params=params, headers=headers)


async def served_download(client: StreamClient, why: str) -> Fetched:
    """Download ``small.txt`` whole, the control of a check of refusals.

    A target that answers 404 (or 416) to everything would pass every check of
    what must be refused; unless this plain download is a 200, the check ends
    *not observable*, saying *why* it needed one.
    """
    fetched = await download(client, SMALL)
    if fetched.status != 200 or fetched.aborted:
        answer = fetched.error if fetched.aborted else f"status {fetched.status}"
        not_observable(
            f"GET {file_path(SMALL)}, a download the surface serves, got {answer}, so {why}"
        )
    return fetched


def media_type(fetched: Fetched) -> str:
    """The media type of a response, lower-cased, parameters removed."""
    return essence(fetched.header("content-type"))


def expect_whole(fetched: Fetched, name: str, what: str) -> None:
    """*fetched* is a complete 200 carrying exactly the conformance file *name*."""
    size = CONFORMANCE_FILES[name]
    expect(fetched.status, 200, f"status of {what}")
    if fetched.aborted:
        violation(f"the body of {what}", "a complete body", fetched.error)
    expect(fetched.header("content-length"), str(size), f"Content-Length of {what}")
    if fetched.body != file_bytes(name, size):
        violation(f"the body of {what}", f"the {size} bytes of {name}", _differ(fetched.body, name))


def _differ(body: bytes, name: str) -> str:
    expected = file_bytes(name, max(len(body), CONFORMANCE_FILES.get(name, 0)))
    at = next((i for i, (a, b) in enumerate(zip(body, expected, strict=False)) if a != b), None)
    where = f"first difference at byte {at}" if at is not None else "a prefix"
    return f"{len(body)} bytes, {where}"


# --- Serving and names ----------------------------------------------------------------------

SERVE = chapter.rule(
    "FILE-SERVE-01",
    MUST,
    "A GET of a file inside the served root answers 200 with a Content-Length equal to "
    "the file's size and exactly its bytes, whatever characters its name holds.",
    CONTENT_LENGTH,
    why="Real names hold spaces, `%`, `#` and letters outside ASCII; a server that writes the "
    "name raw into a header cannot serve one that is not Latin-1: the tutorial as published "
    "answers it with a 500 (the README's peer matrix).",
)


@SERVE.check
async def check_every_conformance_file_is_served_whole(stream_client: StreamClient) -> None:
    """Every conformance file, among them names with spaces, quotes, ``%``, non-ASCII
    letters and a subdirectory, an empty file and an 8 MiB one, comes back byte for byte."""
    for name in CONFORMANCE_FILES:
        fetched = await download(stream_client, name)
        expect_whole(fetched, name, f"GET {name!r}")


HOSTILE_TARGETS = (
    b"../outside.txt",
    b"..%2foutside.txt",
    b"%2e%2e/outside.txt",
    b"%2E%2E%2Foutside.txt",
    b".%2e/outside.txt",
    b"sub/../../outside.txt",
    b"sub/..%2f..%2foutside.txt",
    b"%252e%252e%252foutside.txt",
    b"..%5coutside.txt",
    b"sub%5c..%5c..%5coutside.txt",
    b"%2fetc%2fpasswd",
    b"/etc/passwd",
    b"%2F..%2Foutside.txt",
    b"link-out.txt",
    b"dir-out/outside.txt",
    b"small.txt%00",
    b"small.txt%00.png",
    b"outside.txt%00/../../outside.txt",
    b"..",
    b"%2e%2e",
)
"""Request targets below ``/conformance/files/`` that must not reach a byte of ``outside.txt``.

``%252e`` is a percent sign followed by ``2e`` once the server has decoded the
path: a server that decodes a second time walks out of the root.
"""

_LEAK_MARKERS = (OUTSIDE_MARKER, b"root:x:0:0")


async def request_target(stream_client: StreamClient, target: bytes) -> Fetched:
    """Send the raw request target *target* (below the files path) over the client's transport.

    Over the socket the bytes go out exactly as given; at the ASGI level the
    scope's ``path`` is the target percent-decoded once, as a server gives it.
    """
    full = FILES_PATH.encode("ascii") + b"/" + target
    if stream_client.transport == "socket":
        base_url = getattr(stream_client, "base_url", None)
        if base_url is None:
            not_observable("the socket client does not say which server it reads")
        return await raw_fetch(base_url, "GET", full)
    path = unquote_to_bytes(full).decode("utf-8", "surrogateescape")
    return await fetch(stream_client, "GET", path)


def expect_refused(fetched: Fetched, target: bytes) -> None:
    """*fetched* answers a hostile target: 404 or 400, and nothing from outside the root."""
    for marker in _LEAK_MARKERS:
        if marker in fetched.body:
            violation(
                f"the body of GET .../{target.decode('latin-1')}",
                "nothing from outside the served root",
                f"{len(fetched.body)} bytes holding {marker!r}",
            )
    if fetched.status not in (400, 404):
        violation(f"the status of GET .../{target.decode('latin-1')}", "404 or 400", fetched.status)


NAMES = chapter.rule(
    "FILE-NAME-01",
    MUST,
    "A name with a `..`, empty or `.` segment (percent-encoded or not), a backslash, a NUL "
    "byte or an absolute path, or one that leads through a symlink out of the served root, "
    "is answered 404 or 400 and no byte from outside the root is sent.",
    TRAVERSAL,
    why="A name joined onto the served directory as it comes reads any file the process can: "
    "`../../etc/passwd`, or the app's own settings and their secrets. The tutorial as "
    "published checks no name and serves `../outside.txt`; Litestar 2.25.0, Django 5.2.19 "
    "and Quart 0.22.0 check the path but do not resolve symlinks, and serve a link that "
    "leads out of the root (the README's peer matrix).",
)


@NAMES.check
async def check_hostile_names_are_refused(stream_client: StreamClient) -> None:
    """``../outside.txt`` and twenty other spellings of a way out (``%2e%2e``, ``%252e``,
    ``..%5c``, ``/etc/passwd``, the symlinks ``link-out.txt`` and ``dir-out``, ``%00``):
    each is refused with 404 or 400 and leaks nothing."""
    await served_download(stream_client, "its refusals would say nothing")
    for target in HOSTILE_TARGETS:
        fetched = await request_target(stream_client, target)
        expect_refused(fetched, target)


_CLIMBS = st.sampled_from(
    ["..", "%2e%2e", ".%2e", "%2E.", "%252e%252e", ".", "", "sub", "dir-out", "..%5c.."]
)
_ENDS = st.sampled_from(
    [
        "outside.txt", "link-out.txt", "small.txt", "sub/nested.txt", "etc/passwd",
        "dir-out/outside.txt", "small.txt%00", "%00", "nested.txt",
    ]
)  # fmt: skip
_SEPARATORS = st.sampled_from(["/", "/", "/", "%2f", "%2F", "%5c", "\\", "%252f"])


@st.composite
def hostile_targets(draw: st.DrawFn) -> bytes:
    """A request target: climbing segments (``..`` spelled many ways, symlinks), then a name
    inside or outside the root, joined by separators spelled many ways."""
    segments = [*draw(st.lists(_CLIMBS, max_size=4)), draw(_ENDS)]
    target = segments[0]
    for segment in segments[1:]:
        target += draw(_SEPARATORS) + segment
    if draw(st.booleans()):
        target = draw(_SEPARATORS) + target
    return target.replace("\\", "%5c").encode("ascii")


def _served_name(target: bytes) -> str | None:
    """The conformance file a target names when it is a plain, legitimate name, else ``None``."""
    name = unquote_to_bytes(target).decode("utf-8", "replace")
    segments = name.split("/")
    plain = all(s not in ("", ".", "..") for s in segments) and "\\" not in name
    if plain and "\0" not in name and name in CONFORMANCE_FILES:
        return name
    return None


NAMES_PROPERTY = chapter.rule(
    "FILE-NAME-02",
    MUST,
    "For any request target below the download path, the answer is either exactly the "
    "file inside the root that the target plainly names, or 404 or 400: never a byte "
    "from outside the root, never a 500.",
    TRAVERSAL,
)


@NAMES_PROPERTY.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=hostile_targets())
@example(target=b"sub%2Fnested.txt")  # an encoded "/": the file, or a 404 or 400
@example(target=b"sub/nested.txt")
async def check_any_target_is_served_exactly_or_refused(
    stream_client: StreamClient, target: bytes
) -> None:
    """Hypothesis composes targets from ``..``, percent-encoded dots and separators,
    backslashes, NUL and real names; each is the named file or a 404/400."""
    await served_download(stream_client, "its refusals would say nothing")
    fetched = await request_target(stream_client, target)
    name = _served_name(target)
    if name is not None and fetched.status == 200:
        expect_whole(fetched, name, f"GET .../{target.decode()}")
    else:
        expect_refused(fetched, target)


# --- Not blocking the loop, memory -----------------------------------------------------------


@asynccontextmanager
async def blocking_calls_detected() -> AsyncIterator[None]:
    """Make a blocking call (file read, ``os.stat``, ``time.sleep``...) on any event loop raise."""
    # Imported here so that a missing detector fails this rule's checks, not the whole suite.
    from blockbuster import BlockBuster  # noqa: PLC0415

    detector = BlockBuster()
    detector.activate()
    try:
        yield
    finally:
        detector.deactivate()


NON_BLOCKING = chapter.rule(
    "FILE-LOOP-01",
    MUST,
    "Serving a file never makes a blocking file-system call (open, stat, read, and path "
    "resolution such as `os.path.abspath` or `os.path.realpath`) on the event loop's thread.",
    STREAMSPEC,
    why="A blocking call on the event loop's thread stops every other request of the process "
    "while it lasts: an `open()` or a `stat()` on a network file system or a busy disk can "
    "take seconds, during which no stream sends and no request is answered. Quart 0.22.0 "
    "calls `is_file()` and `stat()` on the loop, the tutorial `open()` and `read()` (the "
    "README's peer matrix).",
)


@NON_BLOCKING.check
async def check_reads_do_not_block_the_loop(target: Target) -> None:
    """The 8 MiB file is downloaded at the ASGI level under a blocking-call detector: any
    blocking call the app makes on the loop's thread raises inside the app, which fails.

    The detector (blockbuster) flags ``os.path.abspath`` whatever its argument, even an
    absolute path it resolves without a system call, and, on some CPython versions,
    ``os.path.realpath`` and ``Path.resolve`` through the calls they make: resolve the
    requested name in a worker thread, as the file is opened."""
    client = AsgiClient(target.app, prefix=target.prefix)
    await download(client, "big.bin")  # the surface may make its files on first use
    async with blocking_calls_detected():
        fetched = await download(client, "big.bin")
    if fetched.aborted or fetched.status != 200:
        violation(
            "GET big.bin under a blocking-call detector",
            "a complete 200 without a blocking call on the loop",
            f"status {fetched.status}, {fetched.error or 'no body error'}",
        )
    expect_whole(fetched, "big.bin", "GET big.bin under a blocking-call detector")


@NON_BLOCKING.check
async def check_reads_do_not_block_the_server_loop(live_url: str) -> None:
    """The same over a real socket: uvicorn's loop runs under the detector while the suite reads."""
    async with http_client(live_url, timeout=30.0) as client:
        await client.get(file_path("big.bin"))
        async with blocking_calls_detected():
            fetched = await _httpx_fetch(client, file_path("big.bin"))
    if isinstance(fetched, BaseException):
        violation(
            "GET big.bin over a socket under a blocking-call detector",
            "a complete response",
            repr(fetched),
        )
    expect_whole(fetched, "big.bin", "GET big.bin over a socket under a blocking-call detector")


async def _httpx_fetch(client: httpx.AsyncClient, path: str) -> Fetched | BaseException:
    try:
        async with client.stream("GET", path) as response:
            fetched = Fetched(
                response.status_code,
                [(k.lower(), v) for k, v in response.headers.multi_items()],
            )
            async for chunk in response.aiter_raw():
                fetched.chunks.append(chunk)
            return fetched
    except httpx.HTTPError as error:
        return error


MEMORY_BOUND = 32 << 20
"""How much the server may hold at once while it serves a large file."""

FLAT_MEMORY = chapter.rule(
    "FILE-MEM-01",
    MUST,
    "Serving a file of any size makes the server hold no more than a few chunks in memory "
    "at once (the check allows 32 MiB while 64 MiB, or 1 GiB, is downloaded).",
    STREAMSPEC,
    why="A server that reads a file into memory to send it needs the file's size in memory for "
    "each download under way, and a few downloads of a large file exhaust it: Django 5.2.19 "
    "under ASGI reads a 64 MiB file whole (64.8 MiB peak, the README's peer matrix).",
)


@FLAT_MEMORY.check
async def check_memory_stays_flat(target: Target, live_url: str) -> None:
    """A file of zeros is read over a socket as fast as it comes, from the target served by
    uvicorn in the suite's own process; the peak of the memory Python allocates meanwhile
    (``tracemalloc``: the server's buffers and the client's chunks) may not pass 32 MiB.

    Allocations are traced, not the resident set: a process reuses memory it freed
    without growing, so the resident set misses a server that buffers a whole file
    in memory another test had freed."""
    if getattr(target, "asgi_app", None) is None:
        not_observable("the server runs in another process; its allocations cannot be traced")
    large = os.environ.get("STREAMSPEC_LARGE_FILES") == "1"
    name = "zeros-1GiB.bin" if large else "zeros-64MiB.bin"
    size = ZERO_FILES[name]
    async with http_client(live_url, timeout=30.0) as client:
        await client.head(file_path(name))
        received = 0
        was_tracing = tracemalloc.is_tracing()
        tracemalloc.start()
        tracemalloc.reset_peak()
        try:
            async with client.stream("GET", file_path(name)) as response:
                expect(response.status_code, 200, f"status of GET {name}")
                async for chunk in response.aiter_raw():
                    received += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            if not was_tracing:
                tracemalloc.stop()
    expect(received, size, f"bytes of {name} received")
    if peak > MEMORY_BOUND:
        violation(
            f"peak memory allocated while serving {name}",
            f"at most {MEMORY_BOUND >> 20} MiB",
            f"{peak / (1 << 20):.1f} MiB",
        )


# --- Content-Length while the file changes ----------------------------------------------------

CHANGING_SIZE = (16 << 20) + 12345
"""The length ``changing.bin`` has when its download starts: large against any chunk size
and against what loopback sockets buffer (the socket checks shrink their receive buffer),
and no multiple of a chunk size, so that a read past the length is never cut at it."""
#: How many downloads of a shrinking file the socket check tries while each arrives whole
#: (FILE-LENGTH-02): the server had read it all before it shrank.
SHRINK_ATTEMPTS = 3


async def _idempotent(request: Callable[[], Awaitable[int]]) -> int:
    """The status *request* gets, tried once more if the server closes the connection before
    it answers: every set-up request here sets a length, so it is idempotent, and RFC 9110
    §9.2.2 lets a client retry it (hypercorn over HTTP/2 did close one now and then, after
    the CANCEL chapter's stalled streams); the rules judge the downloads, not this set-up."""
    try:
        return await request()
    except httpx.RemoteProtocolError:
        return await request()


async def resize(client: StreamClient, size: int) -> None:
    """Ask the surface to set the length of ``changing.bin`` in place."""

    async def post() -> int:
        async with client.stream(
            "POST", file_path(CHANGING_FILE), params=[("size", str(size))]
        ) as response:
            async for _ in response.chunks():
                pass
            return response.status

    status = await _idempotent(post)
    if status >= 300:
        not_observable(f"the target cannot resize {CHANGING_FILE} (status {status})")


async def _resize_over(live_url: str, size: int) -> None:
    """:func:`resize` on a connection of its own, speaking the run's protocol."""
    async with http_client(live_url, timeout=30.0) as client:

        async def post() -> int:
            response = await client.post(file_path(CHANGING_FILE), params={"size": size})
            return response.status_code

        status = await _idempotent(post)
    if status >= 300:
        not_observable(f"the target cannot resize {CHANGING_FILE} ({status})")


async def _asgi_download_while_resizing(target: Target, new_size: int) -> harness.Exchange:
    """Download ``changing.bin`` at the ASGI level, resizing it after the first body message.

    The harness queues no body message (``body_buffer=0``): when the first one
    has been read, the app has read at most one more chunk of the file.
    """
    control = AsgiClient(target.app, prefix=target.prefix)
    await resize(control, CHANGING_SIZE)
    scope = harness.build_scope("GET", file_path(CHANGING_FILE), prefix=target.prefix)
    async with harness.exchange(target.app, scope, body_buffer=0) as exchange:
        await exchange.wait_start()
        body = exchange.iter_body()
        await anext(body)
        await resize(control, new_size)
        async for _ in body:
            pass
        with anyio.fail_after(30):
            await exchange.app_done.wait()
    await resize(control, CHANGING_SIZE)
    return exchange


async def _socket_download_while_resizing(live_url: str, new_size: int) -> Fetched:
    """The same over a socket whose receive buffer is 64 KiB, so the server cannot run ahead;
    over HTTP/2, :func:`_h2_download_while_resizing`."""
    if speaks_http2():
        return await _h2_download_while_resizing(live_url, new_size)
    options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)]
    transport = httpx.AsyncHTTPTransport(socket_options=options)
    await _resize_over(live_url, CHANGING_SIZE)
    async with (
        http_client(live_url, timeout=30.0, transport=transport) as client,
        client.stream("GET", file_path(CHANGING_FILE)) as response,
    ):
        fetched = Fetched(
            response.status_code, [(k.lower(), v) for k, v in response.headers.multi_items()]
        )
        chunks = response.aiter_raw()
        try:
            fetched.chunks.append(await anext(chunks))
            await _resize_over(live_url, new_size)
            async for chunk in chunks:
                fetched.chunks.append(chunk)
        except httpx.TransportError as error:
            fetched.aborted, fetched.error = True, f"{type(error).__name__}: {error}"
    # On a connection of its own: an abort may have closed the download's (over HTTP/2,
    # a server that aborts by closing the connection takes every stream on it along).
    await _resize_over(live_url, CHANGING_SIZE)
    return fetched


async def _h2_download_while_resizing(live_url: str, new_size: int) -> Fetched:
    """Over HTTP/2, the stream's flow-control window is what holds the server back: the
    download's stream is opened with the client's small window (:mod:`spec.wire_h2`) kept
    closed until the file has shrunk, then read to its end. (httpx opens windows of 16 MiB,
    as large as the file: a server could read it all before it shrank.)"""
    await _resize_over(live_url, CHANGING_SIZE)
    async with wire_h2.connect(live_url) as connection:
        stream = await connection.request("GET", file_path(CHANGING_FILE), window=False)
        with guarded("the head of the download of changing.bin", patience()):
            await connection.until(lambda: bool(stream.chunks) or stream.closed)
        await _resize_over(live_url, new_size)
        await connection.open_window(stream)
        with (
            guarded("the end of the download of changing.bin", 30.0),
            suppress(wire_h2.ConnectionEnded),
        ):
            await connection.until(lambda: stream.closed)
        fetched = Fetched(stream.status, stream.headers, list(stream.chunks))
        if not stream.ended or stream.reset is not None:
            fetched.aborted = True
            fetched.error = connection.terminated or stream.how_it_ended()
    await _resize_over(live_url, CHANGING_SIZE)
    return fetched


def _declared(headers: Sequence[tuple[str, str]]) -> int | None:
    value = next((v for k, v in headers if k == "content-length"), None)
    return int(value) if value is not None and value.isdigit() else None


GROWS = chapter.rule(
    "FILE-LENGTH-01",
    MUST,
    "When the file grows during the download, exactly the declared Content-Length bytes "
    "are sent, they are the file's first bytes, and the response ends normally.",
    CONTENT_LENGTH,
    why="Files are downloaded while they are written (a log, an export in progress). A server "
    "that sends what the file holds when it reads it, past the length it declared, sends "
    "bytes the HTTP layer refuses (uvicorn's h11 drops the connection: Starlette's "
    "`FileResponse`, in the README's peer matrix) or that a keep-alive client reads as the "
    "start of the next response.",
)


@GROWS.check
async def check_growing_file_asgi(target: Target) -> None:
    """At the ASGI level: ``changing.bin`` grows by 1 MiB after the first body message;
    the body messages carry exactly the length announced, the last with ``more_body`` false."""
    exchange = await _asgi_download_while_resizing(target, CHANGING_SIZE + (1 << 20))
    expect(exchange.status, 200, "status of GET changing.bin")
    expect(_declared(exchange.headers), CHANGING_SIZE, "Content-Length of GET changing.bin")
    if exchange.app_error is not None:
        violation("the download of a growing file", "a normal end", repr(exchange.app_error))
    body = exchange.body
    expect(len(body), CHANGING_SIZE, "bytes sent for a file that grew during the download")
    expect(body == file_bytes(CHANGING_FILE, CHANGING_SIZE), True, "body equals the file's start")
    final = exchange.body_messages[-1].get("more_body", False)
    expect(final, False, "more_body of the last body message")


@GROWS.check
async def check_growing_file_socket(live_url: str) -> None:
    """Over a socket: the client reads exactly the length announced and a proper end."""
    fetched = await _socket_download_while_resizing(live_url, CHANGING_SIZE + (1 << 20))
    expect(fetched.status, 200, "status of GET changing.bin")
    if fetched.aborted:
        violation("the download of a growing file", "a complete body", fetched.error)
    expect(len(fetched.body), CHANGING_SIZE, "bytes received for a file that grew")
    expect(fetched.body == file_bytes(CHANGING_FILE, CHANGING_SIZE), True, "body is the start")


SHRINKS = chapter.rule(
    "FILE-LENGTH-02",
    MUST,
    "When the file shrinks during the download, the response is aborted (the connection "
    "closed without the end of the body), so the client can tell the body is incomplete; "
    "it never ends normally short of its Content-Length.",
    INCOMPLETE,
)


@SHRINKS.check
async def check_shrinking_file_asgi(target: Target) -> None:
    """At the ASGI level: ``changing.bin`` is cut to 8 MiB after the first body message; the
    app must not send a final body message (``more_body`` false) short of the length announced:
    it raises, or returns without ending the body, and the server drops the connection."""
    exchange = await _asgi_download_while_resizing(target, CHANGING_SIZE // 2)
    expect(_declared(exchange.headers), CHANGING_SIZE, "Content-Length of GET changing.bin")
    body = exchange.body
    if len(body) > CHANGING_SIZE:
        violation("bytes sent for a file that shrank", f"<= {CHANGING_SIZE}", len(body))
    ended = any(not m.get("more_body", False) for m in exchange.body_messages)
    if ended and len(body) < CHANGING_SIZE:
        violation(
            "the end of a download whose file shrank",
            "an aborted response (no final body message)",
            f"a normal end after {len(body)} of {CHANGING_SIZE} bytes",
        )
    if body != file_bytes(CHANGING_FILE, len(body)):
        violation("what was sent", "the file's start", _differ(body, CHANGING_FILE))


@SHRINKS.check
async def check_shrinking_file_socket(live_url: str) -> None:
    """Over a socket: the client sees the connection end before the length announced.

    A server may, by chance, have read the whole file before it shrinks (its read-ahead,
    its transport's buffer and the kernel's send buffer together can hold more than the
    client has taken): the download is tried again, up to :data:`SHRINK_ATTEMPTS` times,
    while it arrives whole and complete, so that a verdict does not hang on that race.
    A whole file, as long as declared, is a complete response of the file as it was: a
    server that holds it every time (it reads it all before sending, or its buffers
    hold it all) is not observable here (what it holds is FILE-MEM-01's business)."""
    whole = file_bytes(CHANGING_FILE, CHANGING_SIZE)
    for _ in range(SHRINK_ATTEMPTS):
        fetched = await _socket_download_while_resizing(live_url, CHANGING_SIZE // 2)
        if fetched.aborted or fetched.body != whole:
            break
    if not fetched.aborted and fetched.body == whole:
        not_observable(
            f"each of {SHRINK_ATTEMPTS} downloads arrived whole, as declared: the server had "
            "read the whole file before it shrank"
        )
    if not fetched.aborted:
        violation(
            "the download of a file that shrank",
            "an incomplete body (the connection closed early)",
            f"a normal end after {len(fetched.body)} of {CHANGING_SIZE} bytes",
        )
    body = fetched.body
    if body != file_bytes(CHANGING_FILE, len(body)):
        violation("what arrived", "the file's start", _differ(body, CHANGING_FILE))


# --- Content-Disposition, Content-Type ------------------------------------------------------

_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def expect_disposition(fetched: Fetched, name: str, what: str) -> None:
    """*fetched* offers *name* in a Content-Disposition a strict RFC 6266 parser reads back."""
    expect(fetched.status, 200, f"status of {what}")
    value = fetched.header("content-disposition")
    if value is None:
        violation(f"Content-Disposition of {what}", "a header naming the file", None)
    try:
        parsed = parse_disposition(value)
    except ValueError as error:
        violation(f"Content-Disposition of {what}", "RFC 6266 syntax", str(error))
    if parsed.type not in ("attachment", "inline"):
        violation(f"disposition type of {what}", "attachment or inline", parsed.type)
    expect(parsed.filename(), name, f"the file name a client reads from {value!r}")


DISPOSITION_NAME = chapter.rule(
    "FILE-DISP-01",
    MUST,
    "Every download, with `as` or without, carries a Content-Disposition of type `attachment` "
    "or `inline` that follows RFC 6266 and gives the client back the file's exact name (its "
    "own, or `as`): quotes and backslashes escaped, any other name in an RFC 8187 `filename*`.",
    DISPOSITION,
    why="RFC 6266 defines the header and its parameters, not when a server must send one; a "
    "download here always carries it because without it a browser names the saved file from "
    "the URL, and a name given with `as` is lost. The browser saves the download under the "
    'name it reads here: a name written raw in `filename="…"` arrives as mojibake when it '
    "is not ASCII (`résumé ✓.txt` from Quart 0.22.0), and Starlette and Litestar write an "
    "RFC 8187 `filename*` that leaves `/` unencoded, which RFC 8187 does not allow (the "
    "README's peer matrix).",
    beyond_source=True,
)


@DISPOSITION_NAME.check
async def check_disposition_of_real_names(stream_client: StreamClient) -> None:
    """The files named with a space, a quote, ``%`` and non-ASCII letters are offered by name."""
    for name in ("small.txt", "with space.txt", 'quote".txt', "100%.txt", "résumé ✓.txt"):
        fetched = await download(stream_client, name)
        expect_disposition(fetched, name.rsplit("/", 1)[-1], f"GET {name!r}")


@DISPOSITION_NAME.check
async def check_disposition_of_awkward_names(stream_client: StreamClient) -> None:
    """Names given with ``?as=``: backslashes, quotes, ``/``, ``;``, ``'``, emoji, NUL."""
    names = ['a\\b".txt', "\\", '"', "a/b.txt", "x; filename=evil.exe", "it's.txt", "🙂.txt", "\0"]
    for name in names:
        fetched = await download(stream_client, SMALL, download_as=name)
        expect_disposition(fetched, name, f"GET {SMALL}?as={name!r}")


@DISPOSITION_NAME.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=24))
async def check_any_name_round_trips(stream_client: StreamClient, name: str) -> None:
    """Hypothesis draws any name; the client reads exactly that name back."""
    fetched = await download(stream_client, SMALL, download_as=name)
    expect_disposition(fetched, name, f"GET {SMALL}?as={name!r}")


NO_INJECTION = chapter.rule(
    "FILE-DISP-02",
    MUST,
    "No CR, LF, NUL or other control character from a file name ever reaches a response "
    "header, and no header is added by one.",
    FIELD_VALUES,
    why="A CR LF in a file name written into a header splits the response (HDR-INPUT-01), and a "
    "server that raises on one answers a 500 instead of a download (Quart 0.22.0, through "
    "Werkzeug's `Headers.add`, in the README's peer matrix).",
)


@NO_INJECTION.check
async def check_names_cannot_inject_headers(stream_client: StreamClient) -> None:
    """Names holding CRLF, LF, CR, NUL, DEL and an attempted ``Set-Cookie`` are downloaded;
    every header value is free of control characters and no ``set-cookie`` appears."""
    names = [
        "a\r\nSet-Cookie: injected=1",
        "b\nSet-Cookie: injected=2",
        "c\rx",
        "d\0e",
        "f\x7fg",
        "\r\n\r\n<html>",
    ]
    for name in names:
        fetched = await download(stream_client, SMALL, download_as=name)
        what = f"GET {SMALL}?as={name!r}"
        if fetched.status >= 500:
            violation(f"status of {what}", "a response carrying the name safely", fetched.status)
        for key, value in fetched.headers:
            if key == "set-cookie":
                violation(f"headers of {what}", "no Set-Cookie", value)
            if not _FIELD_VALUE.fullmatch(value):
                violation(f"header {key} of {what}", "no control character", value)


CONTENT_TYPES = {
    "small.txt": "text/plain",
    "data.json": "application/json",
    "image.png": "image/png",
    "no-extension": "application/octet-stream",
    "unknown.streamspec": "application/octet-stream",
}

TYPE = chapter.rule(
    "FILE-TYPE-01",
    MUST,
    "Content-Type is the media type of the file's extension, and application/octet-stream "
    "when the extension is unknown or missing.",
    CONTENT_TYPE,
    why="RFC 9110 asks for a Content-Type as a SHOULD and leaves to the server how it finds the "
    "type (8.3); a download here takes it from the extension because the Content-Type "
    "decides what the browser, and then the program that opens the saved file, take the "
    "file for: a type guessed for an unknown extension can make a file served inline render "
    "as a page of the site's origin (`text/html`), where `application/octet-stream` is only "
    "saved.",
    beyond_source=True,
)


@TYPE.check
async def check_content_type_from_extension(stream_client: StreamClient) -> None:
    """``.txt``, ``.json`` and ``.png`` get their registered types; others are octet-stream."""
    for name, expected in CONTENT_TYPES.items():
        fetched = await download(stream_client, name)
        expect(media_type(fetched), expected, f"media type of GET {name}")


# --- Validators, HEAD, conditional requests ---------------------------------------------------

ACCEPT_RANGES = chapter.rule(
    "FILE-META-01",
    MUST,
    "A file download announces `Accept-Ranges: bytes`.",
    Source("RFC 9110", "14.3 Accept-Ranges", f"{_RFC9110}#section-14.3"),
    why="RFC 9110 leaves Accept-Ranges optional (14.3, MAY); a download here serves ranges "
    "(FILE-RANGE-01), and the header is how it says so, so that a client knows before a "
    "connection drops that the download can resume.",
    beyond_source=True,
)


@ACCEPT_RANGES.check
async def check_accept_ranges(stream_client: StreamClient) -> None:
    """GET of a file answers with ``Accept-Ranges: bytes``."""
    fetched = await download(stream_client, SMALL)
    expect(fetched.header("accept-ranges"), "bytes", "Accept-Ranges of a download")


_STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e\x80-\xff]*"')

STRONG_ETAG = chapter.rule(
    "FILE-META-02",
    MUST,
    "A file download carries a strong ETag that stays the same while the file does and "
    "changes when the file changes.",
    ETAG,
    why="RFC 9110 asks an origin server for an ETag as a SHOULD (8.8.3.1); a download here must "
    "have a strong one because a resumed download is stitched from two responses: with the "
    "ETag in If-Range (FILE-RANGE-05) the client gets the rest only if the file has not "
    "changed, and the whole file if it has; with no ETag, or one that does not change with "
    "the file, it may join the start of one version to the end of another.",
    beyond_source=True,
)


async def _etag(client: StreamClient, name: str) -> str:
    fetched = await download(client, name, method="HEAD")
    value = fetched.header("etag")
    if value is None:
        violation(f"ETag of {name}", "a strong entity tag", None)
    return value


@STRONG_ETAG.check
async def check_strong_stable_etag(stream_client: StreamClient) -> None:
    """The ETag is a quoted opaque tag without ``W/``, the same on two requests."""
    first = await _etag(stream_client, SMALL)
    if not _STRONG_ETAG.fullmatch(first):
        violation(f"ETag of {SMALL}", "a strong entity tag", first)
    expect(await _etag(stream_client, SMALL), first, f"ETag of {SMALL} asked again")


@STRONG_ETAG.check
async def check_etag_changes_with_the_file(stream_client: StreamClient) -> None:
    """``changing.bin`` cut by one byte gets a new ETag."""
    await resize(stream_client, CHANGING_SIZE)
    before = await _etag(stream_client, CHANGING_FILE)
    await resize(stream_client, CHANGING_SIZE - 1)
    after = await _etag(stream_client, CHANGING_FILE)
    await resize(stream_client, CHANGING_SIZE)
    if after == before:
        violation("ETag after the file changed", f"anything but {before}", after)


_IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT"
)

LAST_MODIFIED_DATE = chapter.rule(
    "FILE-META-03",
    MUST,
    "A file download carries Last-Modified as an IMF-fixdate.",
    LAST_MODIFIED,
    why="RFC 9110 asks for Last-Modified as a SHOULD (8.8.2.1), and, when it is sent, for an "
    "IMF-fixdate (5.6.7, MUST); a download here must carry it because clients that keep "
    "only a date revalidate and resume with it: If-Modified-Since (FILE-COND-02) and an "
    "If-Range date (FILE-RANGE-05).",
    beyond_source=True,
)


@LAST_MODIFIED_DATE.check
async def check_last_modified(stream_client: StreamClient) -> None:
    """``Last-Modified`` is present and an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    fetched = await download(stream_client, SMALL)
    value = fetched.header("last-modified")
    if value is None or not _IMF_FIXDATE.fullmatch(value):
        violation(f"Last-Modified of {SMALL}", "an IMF-fixdate", value)


HEAD_RULE = chapter.rule(
    "FILE-HEAD-01",
    MUST,
    "HEAD of a file answers the status and headers GET would, and no body.",
    HEAD,
    why="RFC 9110 forbids content in a response to HEAD (9.3.2, MUST NOT) but asks for the "
    "header fields a GET would get only as a SHOULD; a download here must send them because "
    "download managers and `curl -I` ask with HEAD for a file's size, type and validators "
    "before they download it, and headers that differ from the GET's mislead them.",
    beyond_source=True,
)

_REPRESENTATION_HEADERS = (
    "content-type",
    "content-length",
    "etag",
    "last-modified",
    "accept-ranges",
    "content-disposition",
)


@HEAD_RULE.check
async def check_head_is_get_without_body(stream_client: StreamClient) -> None:
    """For ``small.txt`` and the 8 MiB file: HEAD's headers are GET's; its body is empty."""
    for name in (SMALL, "big.bin"):
        got = await download(stream_client, name)
        head = await download(stream_client, name, method="HEAD")
        expect(head.status, got.status, f"status of HEAD {name}")
        for header in _REPRESENTATION_HEADERS:
            expect(head.header(header), got.header(header), f"{header} of HEAD {name}")
        expect(len(head.body), 0, f"body bytes of HEAD {name}")


_KEPT_BY_304 = ("cache-control", "content-location", "etag", "expires", "vary")
"""What a 304 carries when the 200 would (RFC 9110 section 15.4.5), with the same value."""


def expect_not_modified(fetched: Fetched, whole: Fetched, what: str) -> None:
    """*fetched* is a 304 for the file *whole* is the 200 of: no body, the fields a 304 must
    carry as the 200 carries them, ``Date`` if the 200 has one, a Content-Length (if any) equal
    to the file's size. Other fields (``Last-Modified``...) may be there or not."""
    expect(fetched.status, 304, f"status of {what}")
    expect(fetched.body, b"", f"body of the 304 to {what}")
    for name in _KEPT_BY_304:
        expect(fetched.header(name), whole.header(name), f"{name} of the 304 to {what}")
    if whole.header("date") is not None and fetched.header("date") is None:
        violation(f"Date of the 304 to {what}", "a Date, as the 200 has", None)
    length = fetched.header("content-length")
    if length is not None:
        expect(length, whole.header("content-length"), f"Content-Length of the 304 to {what}")


NOT_MODIFIED_ETAG = chapter.rule(
    "FILE-COND-01",
    MUST,
    "A GET whose If-None-Match lists the file's entity tag (weak comparison) or is `*` "
    "answers 304 with no body, the ETag, and each of Cache-Control, Content-Location, Date, "
    "Expires and Vary the 200 carries (a Content-Length only if it is the file's size); any "
    "other If-None-Match gets the file.",
    IF_NONE_MATCH,
    why="A 304 saves the whole transfer when the client's copy is current: a server that never "
    "evaluates If-None-Match sends the file again every time (Starlette's `FileResponse` "
    "and Litestar's `File`, in the README's peer matrix), and a 304 without the 200's "
    "Cache-Control, ETag or Vary leaves a cache unable to update what it stored.",
)


@NOT_MODIFIED_ETAG.check
async def check_if_none_match(stream_client: StreamClient) -> None:
    """The current tag, ``*``, ``W/`` + the tag and a list holding it give 304, each carrying
    the 200's ETag and caching fields and no body; a stale tag gives 200."""
    whole = await download(stream_client, SMALL)
    etag = await _etag(stream_client, SMALL)
    for condition in (etag, "*", f"W/{etag}", f'"stale", {etag}'):
        fetched = await download(stream_client, SMALL, headers=[("if-none-match", condition)])
        expect_not_modified(fetched, whole, f"GET with If-None-Match: {condition}")
    fetched = await download(stream_client, SMALL, headers=[("if-none-match", '"stale"')])
    expect_whole(fetched, SMALL, 'GET with If-None-Match: "stale"')


NOT_MODIFIED_DATE = chapter.rule(
    "FILE-COND-02",
    MUST,
    "A GET without If-None-Match whose If-Modified-Since is a valid date no earlier than "
    "Last-Modified answers 304 (carrying what FILE-COND-01 says a 304 carries); an earlier or "
    "invalid date gets the file.",
    IF_MODIFIED_SINCE,
    why="Clients that keep only a date (`curl -z`, older caches) revalidate with "
    "If-Modified-Since: a server that ignores it sends the whole file again every time "
    "(Starlette and Litestar, in the README's peer matrix).",
)


@NOT_MODIFIED_DATE.check
async def check_if_modified_since(stream_client: StreamClient) -> None:
    """Last-Modified itself gives 304; a day before it, or a malformed date, gives the file;
    a non-matching If-None-Match takes precedence over a matching If-Modified-Since."""
    first = await download(stream_client, SMALL)
    last_modified = first.header("last-modified")
    if last_modified is None:
        violation(f"Last-Modified of {SMALL}", "a date to send back", None)
    fetched = await download(stream_client, SMALL, headers=[("if-modified-since", last_modified)])
    expect_not_modified(fetched, first, f"GET with If-Modified-Since: {last_modified}")
    earlier = parsedate_to_datetime(last_modified).timestamp() - 86400
    for condition in (formatdate(earlier, usegmt=True), "not a date"):
        fetched = await download(stream_client, SMALL, headers=[("if-modified-since", condition)])
        expect_whole(fetched, SMALL, f"GET with If-Modified-Since: {condition}")
    both = [("if-none-match", '"stale"'), ("if-modified-since", last_modified)]
    fetched = await download(stream_client, SMALL, headers=both)
    expect_whole(fetched, SMALL, "GET with a stale If-None-Match and a current If-Modified-Since")


# --- Range requests ---------------------------------------------------------------------------


def expect_single_range(fetched: Fetched, first: int, last: int, what: str) -> None:
    """*fetched* is a 206 carrying bytes first..last of ``small.txt``."""
    expect(fetched.status, 206, f"status of {what}")
    expect(
        fetched.header("content-range"),
        f"bytes {first}-{last}/{SMALL_SIZE}",
        f"Content-Range of {what}",
    )
    expect(fetched.header("content-length"), str(last - first + 1), f"Content-Length of {what}")
    expect(fetched.body, SMALL_BYTES[first : last + 1], f"body of {what}")


SINGLE_RANGE = chapter.rule(
    "FILE-RANGE-01",
    MUST,
    "A satisfiable single range (`a-b`, open `a-`, suffix `-n`) answers 206 with "
    "Content-Range `bytes first-last/length` and exactly those bytes.",
    RANGES,
    why=RANGES_WHY,
    beyond_source=True,
)

SINGLE_CASES = (
    ("bytes=0-0", 0, 0),
    ("bytes=10-19", 10, 19),
    ("bytes=990-", 990, 999),
    ("bytes=-10", 990, 999),
    ("bytes=-5000", 0, 999),
    ("bytes=995-2000", 995, 999),
    ("BYTES=1-2", 1, 2),
    ("bytes=0-9, 1200-1300", 0, 9),
)


@SINGLE_RANGE.check
async def check_single_ranges(stream_client: StreamClient) -> None:
    """Plain, open, suffix, over-long suffix, clamped, upper-case unit, and one satisfiable range
    beside an unsatisfiable one: each a 206 of the right slice of ``small.txt``."""
    for header, first, last in SINGLE_CASES:
        fetched = await download(stream_client, SMALL, headers=[("range", header)])
        expect_single_range(fetched, first, last, f"GET with Range: {header}")


def multipart_parts(fetched: Fetched) -> list[tuple[str, str, bytes]]:
    """The parts of a multipart/byteranges body: ``(content type, content range, body)``."""
    content_type = fetched.header("content-type") or ""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        violation("Content-Type of a multipart response", "a boundary parameter", content_type)
    delimiter = b"--" + match.group(1).encode("latin-1")
    sections = fetched.body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        violation(
            "a multipart/byteranges body", "parts and a closing delimiter", fetched.body[:200]
        )
    parts = []
    for section in sections[1:-1]:
        head, separator, body = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator or not body.endswith(b"\r\n"):
            violation(
                "a part of a multipart/byteranges body",
                "headers, CRLF CRLF, body CRLF",
                section[:200],
            )
        lines = (line.partition(":") for line in head.decode("latin-1").split("\r\n"))
        headers = {k.strip().lower(): v.strip() for k, _, v in lines}
        parts.append((headers.get("content-type", ""), headers.get("content-range", ""), body[:-2]))
    return parts


def parts_of(fetched: Fetched, what: str) -> list[tuple[str, str, bytes]]:
    """The parts of a 206: a multipart body's, or the one part a single range is."""
    if media_type(fetched) == "multipart/byteranges":
        parts = multipart_parts(fetched)
        declared = fetched.header("content-length")
        if declared is not None:
            expect(int(declared), len(fetched.body), f"Content-Length of {what}")
        return parts
    return [("", fetched.header("content-range") or "", fetched.body)]


def covered(fetched: Fetched, what: str) -> set[int]:
    """Check every part of a 206 against the source, and return the offsets it carries."""
    offsets: set[int] = set()
    for _, content_range, body in parts_of(fetched, what):
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if match is None:
            violation(
                f"Content-Range of a part of {what}", "bytes first-last/length", content_range
            )
        first, last, length = (int(g) for g in match.groups())
        expect(length, SMALL_SIZE, f"complete length in {content_range}")
        expect(body, SMALL_BYTES[first : last + 1], f"the part {content_range} of {what}")
        offsets |= set(range(first, last + 1))
    return offsets


MULTIPLE_RANGES = chapter.rule(
    "FILE-RANGE-02",
    MUST,
    "Several satisfiable ranges at least 400 bytes apart answer 206 multipart/byteranges, "
    "each part with its Content-Range and exactly those bytes (overlapping ranges may be "
    "coalesced).",
    MULTIPART,
    why=RANGES_WHY,
    beyond_source=True,
)


@MULTIPLE_RANGES.check
async def check_multiple_ranges(stream_client: StreamClient) -> None:
    """``0-9,500-509``, ``-5,0-4`` and ``100-199,150-250,900-`` come back as multipart parts
    covering every byte asked for, each part the right slice (the ranges that do not overlap
    are 400 bytes apart or more: too far to be coalesced)."""
    for header, wanted in (
        ("bytes=0-9,500-509", {*range(10), *range(500, 510)}),
        ("bytes=-5,0-4", {*range(995, 1000), *range(5)}),
        ("bytes=100-199, 150-250 ,900-", {*range(100, 251), *range(900, 1000)}),
    ):
        fetched = await download(stream_client, SMALL, headers=[("range", header)])
        what = f"GET with Range: {header}"
        expect(fetched.status, 206, f"status of {what}")
        expect(media_type(fetched), "multipart/byteranges", f"media type of {what}")
        missing = wanted - covered(fetched, what)
        if missing:
            violation(f"the parts of {what}", "every byte asked for", f"{len(missing)} missing")


UNSATISFIABLE = chapter.rule(
    "FILE-RANGE-03",
    MUST,
    "A range set none of whose ranges overlaps the file answers 416 with "
    "`Content-Range: bytes */LENGTH`.",
    RANGE_416,
    why="RFC 9110 lets a server ignore Range (14.2), and a 416's `Content-Range: bytes "
    "*/LENGTH` is a SHOULD (15.5.17); a download here serves ranges (FILE-RANGE-01), and "
    "the length is what tells a client that asked past the end (its copy already whole, or "
    "the file since replaced by a shorter one) where the file ends, so that it stops, or "
    "starts over, instead of asking again.",
    beyond_source=True,
)


@UNSATISFIABLE.check
async def check_unsatisfiable_ranges(stream_client: StreamClient) -> None:
    """Starting at or past the end, a zero-length suffix, and any range of the empty file."""
    await served_download(stream_client, "its 416s would say nothing")
    cases = [
        (SMALL, "bytes=1000-", SMALL_SIZE),
        (SMALL, "bytes=5000-6000", SMALL_SIZE),
        (SMALL, "bytes=-0", SMALL_SIZE),
        (SMALL, "bytes=1000-1000, 2000-", SMALL_SIZE),
        ("empty.txt", "bytes=0-", 0),
    ]
    for name, header, length in cases:
        fetched = await download(stream_client, name, headers=[("range", header)])
        what = f"GET {name} with Range: {header}"
        expect(fetched.status, 416, f"status of {what}")
        expect(fetched.header("content-range"), f"bytes */{length}", f"Content-Range of {what}")


IGNORED = chapter.rule(
    "FILE-RANGE-04",
    MUST,
    "A Range in a unit the server does not understand is ignored: the whole file with 200. A "
    "malformed or inverted Range in bytes gets either the whole file with 200 or a refusal, "
    "400 or 416; never a 206 and never a 5xx.",
    Source("RFC 9110", "14.2 Range", f"{_RFC9110}#section-14.2"),
    why="An origin server MUST ignore a Range in a unit it does not understand (14.2), so a "
    "client that asks in one gets the whole representation; an invalid ranges-specifier it "
    "MAY ignore or reject. A 206 for a range it could not read makes the client splice "
    "wrong bytes into its copy.",
)

UNKNOWN_UNIT_RANGES = ("items=0-5",)
"""Range headers in a unit that is not ``bytes``, the only one RFC 9110 defines."""

MALFORMED_RANGES = (
    "bytes=abc",
    "bytes=9-3",
    "bytes=0-5,9-3",
    "bytes",
    "bytes=",
    "bytes=-",
    "bytes=--5",
    "bytes=1-2-3",
    "bytes=0x10-0x20",
    "bytes=+1-2",
    "bytes=0-5;x",
    "=0-5",
)
"""Range headers that are no valid ranges-specifier (RFC 9110 section 14.1.1)."""

REFUSALS = (400, 416)
"""The statuses that refuse an invalid Range: 416 (15.5.17), or 400 for a malformed field."""


@IGNORED.check
async def check_malformed_ranges_get_the_whole_file_or_a_refusal(
    stream_client: StreamClient,
) -> None:
    """``items=0-5`` gets ``small.txt`` whole, with 200; ``bytes=abc``, inverted ``9-3``
    (alone or beside a valid range), ``bytes``, ``-``, ``--5``, ``1-2-3``, hex, ``+1``,
    trailing junk and an empty unit each get it whole with 200, or a 400 or 416."""
    for header in UNKNOWN_UNIT_RANGES:
        fetched = await download(stream_client, SMALL, headers=[("range", header)])
        expect_whole(fetched, SMALL, f"GET with Range: {header}")
    for header in MALFORMED_RANGES:
        fetched = await download(stream_client, SMALL, headers=[("range", header)])
        what = f"GET with Range: {header}"
        if fetched.status in REFUSALS:
            continue
        if fetched.status != 200:
            violation(f"status of {what}", "200 with the whole file, or 400 or 416", fetched.status)
        expect_whole(fetched, SMALL, what)


IGNORED_RATHER_THAN_REFUSED = chapter.rule(
    "FILE-RANGE-08",
    SHOULD,
    "A malformed or inverted Range in bytes is ignored: the whole file with 200, rather than "
    "a refusal.",
    Source("RFC 9110", "15.5.17 416 Range Not Satisfiable", f"{_RFC9110}#section-15.5.17"),
    why="RFC 9110 notes under 416 that most clients are prepared to complete their task with "
    "a 200, and that a client might not stop making an invalid range request until it has "
    "received a complete representation: ignoring the Range serves the file once, where a "
    "refusal may be asked again and again.",
    beyond_source=True,
)


@IGNORED_RATHER_THAN_REFUSED.check
async def check_malformed_ranges_get_the_whole_file(stream_client: StreamClient) -> None:
    """Each header of :data:`MALFORMED_RANGES` gets ``small.txt`` whole, with 200."""
    for header in MALFORMED_RANGES:
        fetched = await download(stream_client, SMALL, headers=[("range", header)])
        expect_whole(fetched, SMALL, f"GET with Range: {header}")


IF_RANGE_RULE = chapter.rule(
    "FILE-RANGE-05",
    MUST,
    "If-Range holding the file's current strong ETag lets the Range apply (206); a stale or "
    "weak entity tag, or a date that is not exactly Last-Modified (earlier or later), gets the "
    "whole file with 200; Last-Modified itself may get either, as the server deems it a "
    "strong validator or not.",
    IF_RANGE,
    why=RANGES_WHY,
    beyond_source=True,
)


@IF_RANGE_RULE.check
async def check_if_range(stream_client: StreamClient) -> None:
    """The current ETag gives the 206; a stale tag, the weak form of the current one, and dates
    a day before, a second after and a day after Last-Modified give the whole file; the date
    Last-Modified gives the 206 or the whole file.

    RFC 9110 section 13.1.5: an HTTP-date If-Range is true only when it is a strong validator
    (section 8.8.2.2, the server's judgement) that exactly matches Last-Modified; when it is not
    true the server MUST ignore the Range. A date later than Last-Modified is no match: a server
    that compares "not earlier", as If-Modified-Since does, serves a stale range."""
    etag = await _etag(stream_client, SMALL)
    ranged = [("range", "bytes=10-19")]
    fetched = await download(stream_client, SMALL, headers=[*ranged, ("if-range", etag)])
    expect_single_range(fetched, 10, 19, f"GET with If-Range: {etag}")
    got = await download(stream_client, SMALL)
    last_modified = got.header("last-modified")
    if last_modified is None:
        violation(f"Last-Modified of {SMALL}", "a date to send back in If-Range", None)
    when = parsedate_to_datetime(last_modified).timestamp()
    dates = [formatdate(when + delta, usegmt=True) for delta in (-86400, 1, 86400)]
    for validator in ('"stale"', f"W/{etag}", *dates):
        fetched = await download(stream_client, SMALL, headers=[*ranged, ("if-range", validator)])
        expect_whole(fetched, SMALL, f"GET with Range and If-Range: {validator}")
    exact = [*ranged, ("if-range", last_modified)]
    fetched = await download(stream_client, SMALL, headers=exact)
    what = f"GET with Range and If-Range: {last_modified} (Last-Modified itself)"
    if fetched.status == 206:
        expect_single_range(fetched, 10, 19, what)
    else:
        expect_whole(fetched, SMALL, what)


MAX_SERVED_RANGES = 6
"""The most range-specs a Range may hold and still have to be served (FILE-RANGE-06)."""

MAX_OVERLAPPING = 2
"""The most overlapping ranges a Range may hold and still have to be served (FILE-RANGE-06)."""


def resolve_spec(spec: str, length: int) -> tuple[int, int] | None:
    """The bytes ``(first, last)`` the range-spec *spec* selects of *length* bytes, or ``None``.

    *spec* is ``a-b``, ``a-`` or ``-n`` as the suite writes them (the caller knows it
    valid); ``None`` when it is unsatisfiable.
    """
    first, _, last = spec.strip().partition("-")
    if not first:
        size = int(last)
        return (max(length - size, 0), length - 1) if size > 0 and length > 0 else None
    start = int(first)
    if start >= length:
        return None
    return start, length - 1 if not last else min(int(last), length - 1)


@dataclass(frozen=True)
class RangeSet:
    """A Range header the suite sends for ``small.txt``, and what each of its specs selects."""

    header: str
    spans: tuple[tuple[int, int] | None, ...]

    @classmethod
    def of(cls, specs: Sequence[str], separator: str = ",") -> RangeSet:
        spans = tuple(resolve_spec(spec, SMALL_SIZE) for spec in specs)
        return cls("bytes=" + separator.join(specs), spans)

    @property
    def wanted(self) -> set[int]:
        """Every offset a satisfiable range of the header selects."""
        return {i for span in self.spans if span is not None for i in range(span[0], span[1] + 1)}

    @property
    def overlapping(self) -> int:
        """How many satisfiable ranges share at least one byte with another range of the set."""
        satisfiable = [span for span in self.spans if span is not None]
        return sum(
            any(
                j != i and other[0] <= span[1] and span[0] <= other[1]
                for j, other in enumerate(satisfiable)
            )
            for i, span in enumerate(satisfiable)
        )

    @property
    def may_be_refused(self) -> bool:
        """Whether a server may ignore (200) or reject (416) the header (RFC 9110 section 14.2)."""
        return len(self.spans) > MAX_SERVED_RANGES or self.overlapping > MAX_OVERLAPPING


@st.composite
def range_sets(draw: st.DrawFn) -> RangeSet:
    """A valid range set over ``small.txt``: int, open and suffix ranges, overlapping or not,
    some past the end, up to a few more than :data:`MAX_SERVED_RANGES`."""
    specs: list[str] = []
    for _ in range(draw(st.integers(1, MAX_SERVED_RANGES + 3))):
        kind = draw(st.sampled_from(["int", "open", "suffix"]))
        if kind == "suffix":
            specs.append(f"-{draw(st.integers(1, SMALL_SIZE + 50))}")
            continue
        first = draw(st.integers(0, SMALL_SIZE + 20))
        if kind == "open":
            specs.append(f"{first}-")
        else:
            specs.append(f"{first}-{draw(st.integers(first, first + 300))}")
    return RangeSet.of(specs, draw(st.sampled_from([",", ", ", " , "])))


RANGE_PROPERTY = chapter.rule(
    "FILE-RANGE-06",
    MUST,
    "For any valid set of ranges, the 206 response carries every byte asked for, each part "
    "equal to the same slice of the file; a set with no satisfiable range gets 416; only a "
    "set of more than six range-specs, or one in which more than two ranges overlap another, "
    "may instead be ignored (200, the whole file) or rejected (416).",
    RANGES,
    why=RANGES_WHY,
    beyond_source=True,
)


def expect_refused_or_served(fetched: Fetched, drawn: RangeSet, what: str) -> None:
    """*fetched* answers *drawn* as FILE-RANGE-06 allows."""
    if drawn.may_be_refused and fetched.status == 200:
        expect_whole(fetched, SMALL, what)
        return
    if drawn.may_be_refused and fetched.status == 416:
        return
    if not drawn.wanted:
        expect(fetched.status, 416, f"status of {what}")
        return
    expect(fetched.status, 206, f"status of {what}")
    missing = drawn.wanted - covered(fetched, what)
    if missing:
        violation(f"the parts of {what}", "every byte asked for", f"{len(missing)} missing")


@RANGE_PROPERTY.check
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=range_sets())
@example(drawn=RangeSet.of(["0-", "0-", "0-"]))  # three overlapping: may get the whole file
@example(drawn=RangeSet.of([f"{100 * i}-{100 * i + 9}" for i in range(7)]))  # past a cap of six
@example(drawn=RangeSet.of(["0-9", "5-14", "600-609", "605-"]))  # four overlapping ranges
@example(drawn=RangeSet.of(["100-199", "150-250", "900-"]))  # two overlapping: to be served
async def check_any_ranges_are_slices_of_the_file(
    stream_client: StreamClient, drawn: RangeSet
) -> None:
    """Hypothesis draws up to nine int, open and suffix ranges, overlapping or not, some past
    the end; the response's parts are slices of ``small.txt`` that cover all it asked for,
    unless the set is one a server may ignore or reject (more than six ranges, more than two
    overlapping), which may also get the whole file or a 416."""
    fetched = await download(stream_client, SMALL, headers=[("range", drawn.header)])
    expect_refused_or_served(fetched, drawn, f"GET with Range: {drawn.header}")


MANY_RANGES = chapter.rule(
    "FILE-RANGE-07",
    SHOULD,
    "A Range of hundreds of overlapping ranges gets the whole file (200), a 416, or a 206 "
    "that carries every byte asked for and no byte twice; never a part for each range.",
    Source(
        "RFC 9110 / CVE-2011-3192",
        "14.2 Range; 17.15 Disclosure of Partial Representations in Range Requests",
        f"{_RFC9110}#section-14.2",
    ),
    why="A Range of many overlapping ranges asks for the same bytes again and again: answered "
    "with a part for each, hundreds of ranges over one small request made Apache httpd "
    'spend memory and CPU without bound (CVE-2011-3192, the "Apache Killer").',
)

HUNDREDS_OF_RANGES = RangeSet.of([f"{i}-{i + 599}" for i in range(300)])
"""300 ranges of 600 bytes, each overlapping the next: sent part by part, 180 kB for 1000 bytes."""


@MANY_RANGES.check
async def check_hundreds_of_ranges_are_not_amplified(stream_client: StreamClient) -> None:
    """``bytes=0-599,1-600,...,299-898`` of ``small.txt``: the whole file, a 416, or parts that
    cover the bytes asked for without sending any of them twice (coalesced)."""
    what = "GET with a Range of 300 overlapping ranges"
    await served_download(stream_client, "its refusals would say nothing")
    fetched = await download(stream_client, SMALL, headers=[("range", HUNDREDS_OF_RANGES.header)])
    if fetched.status == 200:
        expect_whole(fetched, SMALL, what)
        return
    if fetched.status == 416:
        return
    expect(fetched.status, 206, f"status of {what}")
    parts = parts_of(fetched, what)
    sent = sum(len(body) for _, _, body in parts)
    if sent > SMALL_SIZE:
        violation(
            f"the parts of {what}",
            f"no byte sent twice (at most {SMALL_SIZE} bytes of the file)",
            f"{sent} bytes in {len(parts)} parts",
        )
    missing = HUNDREDS_OF_RANGES.wanted - covered(fetched, what)
    if missing:
        violation(f"the parts of {what}", "every byte asked for", f"{len(missing)} missing")
