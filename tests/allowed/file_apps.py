"""File downloads that take a liberty the spec's text allows, each in one way: they must pass.

The counterpart of :mod:`tests.broken.file_apps`: where the text of a rule (or
of the surface contract) allows two behaviours, the reference shows one and an
app here the other, so that a check that accepts only the reference's reading
is caught (``tests/test_file_allowed.py``). :data:`ALLOWED` maps each app to
the rules it must pass.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from impl.app import create_app
from impl.download import FileDownload
from impl.ranges import Decision, Ignore, Unsatisfiable, parse_range
from spec.kit import files as conformance_files
from spec.surface import FILES_PATH, download_name
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send
from tests.broken.file_apps import Serve, files_app, with_request, with_response_headers

CAP = 6
"""The fewest range-specs the spec lets a server cap a Range at (FILE-RANGE-06)."""


def _selected(spec: str, length: int) -> tuple[int, int] | None:
    first, _, last = spec.strip().partition("-")
    if not first:
        return (max(length - int(last), 0), length - 1) if int(last) and length else None
    if int(first) >= length:
        return None
    return int(first), min(int(last), length - 1) if last else length - 1


def _overlapping(spans: list[tuple[int, int]]) -> int:
    """How many of *spans* share a byte with another of them."""
    return sum(
        any(i != j and a <= d and c <= b for j, (c, d) in enumerate(spans))
        for i, (a, b) in enumerate(spans)
    )


def guarded(refusal: Decision) -> Callable[[str, int], Decision]:
    """The reference's decision, but *refusal* for more than :data:`CAP` range-specs or more
    than two overlapping ranges (RFC 9110 section 14.2: signs of a denial-of-service attack)."""

    def decide(header: str, length: int) -> Decision:
        decision = parse_range(header, length)
        if isinstance(decision, Ignore):
            return decision
        specs = [spec for spec in header.partition("=")[2].split(",") if spec.strip()]
        spans = [span for spec in specs if (span := _selected(spec, length)) is not None]
        if len(specs) > CAP or _overlapping(spans) > 2:
            return refusal
        return decision

    return decide


def _download(ranges: Callable[[str, int], Decision]) -> Serve:
    async def serve(root: Path, name: str, request: Request) -> Response:
        offered = download_name(request.scope["query_string"])
        return FileDownload(root, name, filename=offered, ranges=ranges)

    return serve


ignores_suspicious_ranges = files_app(_download(guarded(Ignore())))
"""Answers 200 with the whole file to more than six ranges or more than two overlapping."""

rejects_suspicious_ranges = files_app(_download(guarded(Unsatisfiable())))
"""Answers 416 to more than six ranges or more than two overlapping."""


def _refusing_malformed(header: str, length: int) -> Decision:
    """The reference's decision, but 416 for a Range in bytes it would ignore as invalid."""
    decision = parse_range(header, length)
    unit = header.partition("=")[0].strip().lower()
    if isinstance(decision, Ignore) and unit == "bytes":
        return Unsatisfiable()
    return decision


refuses_malformed_ranges = files_app(_download(_refusing_malformed))
"""Answers 416 to a malformed or inverted Range in bytes (RFC 9110 section 14.2: a server
MAY reject an invalid ranges-specifier); it still ignores an unknown unit."""


def _no_range_with_a_date(scope: Scope) -> Scope:
    """A Range beside an If-Range that is a date (not an entity tag) is dropped."""
    fields = dict(scope["headers"])
    if_range = fields.get(b"if-range", b'"').lstrip()
    if if_range.startswith((b'"', b"W/")):
        return scope
    return {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"range"]}


dates_never_strong = with_request(create_app(), _no_range_with_a_date)
"""Deems no Last-Modified date a strong validator: an If-Range date never lets a Range apply."""


async def _inline(root: Path, name: str, request: Request) -> Response:
    offered = download_name(request.scope["query_string"])
    return FileDownload(root, name, filename=offered, disposition="inline")


inline_disposition = files_app(_inline)
"""Offers every file ``inline`` rather than as an ``attachment``."""


def refusing_encoded_slashes(app: ASGIApp) -> ASGIApp:
    """*app*, but a 404 for a request whose raw path holds ``%2F`` (a ``/`` sent encoded)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%2f" in bytes(scope.get("raw_path") or b"").lower():
            await PlainTextResponse("no such file\n", status_code=404)(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped


refuses_encoded_slash = refusing_encoded_slashes(create_app())
"""Serves ``sub/nested.txt`` only with its ``/`` sent as ``/``."""


def _with_metadata(
    scope: Scope, status: int, headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """Cache-Control and Vary on every answer; on a 304, Last-Modified and Content-Length too."""
    added = [(b"cache-control", b"no-cache"), (b"vary", b"accept-encoding")]
    if status == 304:
        name = scope["path"].removeprefix(FILES_PATH + "/")
        path = conformance_files.root() / name  # small and cached: a test app may stat here
        stat = path.stat()
        added += [
            (b"last-modified", formatdate(int(stat.st_mtime), usegmt=True).encode("ascii")),
            (b"content-length", str(stat.st_size).encode("ascii")),
        ]
    return [*headers, *added]


not_modified_with_metadata = with_response_headers(create_app(), _with_metadata)
"""A 304 that also carries Last-Modified and the file's Content-Length (RFC 9110 8.6)."""


def starting_changing_at(size: int, app: ASGIApp) -> ASGIApp:
    """*app*, whose ``changing.bin`` is *size* bytes long before its first request."""
    started = False

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal started
        if scope["type"] == "http" and not started:
            started = True
            await anyio.to_thread.run_sync(conformance_files.resize_changing, size)
        await app(scope, receive, send)

    return wrapped


changing_starts_elsewhere = starting_changing_at(777, create_app())
"""``changing.bin`` starts at 777 bytes, not empty."""


ALLOWED: dict[str, str] = {
    "inline_disposition": "FILE-DISP-*",
    "refuses_encoded_slash": "FILE-NAME-*",
    "not_modified_with_metadata": "FILE-COND-*",
    "changing_starts_elsewhere": "FILE-META-02,FILE-LENGTH-*",
    "dates_never_strong": "FILE-RANGE-05",
    "ignores_suspicious_ranges": "FILE-RANGE-*",
    "rejects_suspicious_ranges": "FILE-RANGE-*",
    "refuses_malformed_ranges": "FILE-RANGE-0[1-7]",
}
"""Each allowed app, by attribute name, and the rules (a ``--rules`` pattern) it must pass."""
