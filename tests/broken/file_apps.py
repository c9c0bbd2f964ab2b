"""File downloads broken on purpose, each in one way, serving the surface's conformance files.

Each is an ASGI app with ``/conformance/files/{name}`` (and the ``POST`` that
resizes ``changing.bin``), so the FILE chapter can be run against it:
``pytest spec --target=tests.broken.file_apps:tutorial``. :data:`BROKEN` maps
each to the rules it must be caught breaking.

Three kinds:

* whole implementations as people write them: the source document's blocking
  generator, Starlette's ``FileResponse``, a name joined onto the root unchecked,
  a reader that reads to end of file, one that reads the whole file into memory;
* the reference download with one request header taken away before it sees it
  (``Range``, ``If-Range``, the conditionals) or one method changed;
* the reference download with one response header spoiled on the way out.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from email.utils import parsedate_to_datetime
from pathlib import Path

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from impl.app import create_app
from impl.download import FileDownload
from impl.ranges import Decision, Ranges, parse_range
from impl.safe_path import OpenFile, is_acceptable_name
from spec.kit import files as conformance_files
from spec.surface import CHANGING_FILE, FILES_PATH
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send

Serve = Callable[[Path, str, Request], Awaitable[Response]]
"""Answer a request for *name* below the root (the root and the request given)."""


async def _resize(request: Request) -> Response:
    size = int(request.query_params["size"])
    await anyio.to_thread.run_sync(conformance_files.resize_changing, size)
    return Response(status_code=204)


def files_app(serve: Serve, *, name_checked: bool = True) -> Starlette:
    """An app whose conformance files are answered by *serve*.

    With *name_checked*, names are vetted as the reference does before *serve*
    sees them (so that each app differs from a correct one in one way).
    """

    async def endpoint(request: Request) -> Response:
        root = await anyio.to_thread.run_sync(conformance_files.root)
        name = request.path_params["name"]
        if name_checked and not await anyio.to_thread.run_sync(_inside, root, name):
            return PlainTextResponse("no such file\n", status_code=404)
        return await serve(root, name, request)

    return Starlette(
        routes=[
            Route(f"{FILES_PATH}/{CHANGING_FILE}", _resize, methods=["POST"]),
            Route(FILES_PATH + "/{name:path}", endpoint, methods=["GET", "HEAD"]),
        ]
    )


def _inside(root: Path, name: str) -> bool:
    if not is_acceptable_name(name):
        return False
    real = os.path.realpath(root / name)
    return real.startswith(os.path.realpath(root) + os.sep) and os.path.isfile(real)


def _download_name(name: str, request: Request) -> str:
    return request.query_params.get("as", name.rsplit("/", 1)[-1])


# --- whole implementations ---------------------------------------------------------------------


async def file_chunk_generator(
    file_path: str, chunk_size: int = 1024 * 1024
) -> AsyncIterator[bytes]:
    """The source document's generator, as printed: blocking ``open()`` and ``read()``."""
    with open(file_path, "rb") as f:  # noqa: ASYNC230 -- the defect under test
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                break
            yield chunk
            await anyio.lowlevel.checkpoint()


async def _tutorial(root: Path, name: str, request: Request) -> Response:
    file_path = str(root / name)
    file_size = os.path.getsize(file_path)  # noqa: ASYNC240 -- as the source document does
    return StreamingResponse(
        file_chunk_generator(file_path),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{_download_name(name, request)}"',
            "Content-Length": str(file_size),
        },
    )


async def _starlette(root: Path, name: str, request: Request) -> Response:
    return FileResponse(root / name, filename=_download_name(name, request))


async def _naive_join(root: Path, name: str, request: Request) -> Response:
    path = root / name
    if not path.is_file():
        return PlainTextResponse("no such file\n", status_code=404)
    return FileResponse(path, filename=path.name)


async def _to_end_of_file(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(1 << 20):
            yield chunk


async def _reads_to_end(root: Path, name: str, request: Request) -> Response:
    """Non-blocking reads and a Content-Length from ``stat``, but reading until end of file."""
    path = root / name
    size = (await anyio.Path(path).stat()).st_size
    return StreamingResponse(
        _to_end_of_file(path),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


async def _padded_to(path: Path, size: int) -> AsyncIterator[bytes]:
    sent = 0
    async with await anyio.open_file(path, "rb") as file:
        while sent < size and (chunk := await file.read(min(1 << 20, size - sent))):
            sent += len(chunk)
            yield chunk
    if sent < size:
        yield bytes(size - sent)


async def _pads_short_file(root: Path, name: str, request: Request) -> Response:
    """A Content-Length from ``stat`` kept at any cost: a file that shrank is padded with zero
    bytes to that length, and the body ends normally (framing valid, content not the file's)."""
    path = root / name
    size = (await anyio.Path(path).stat()).st_size
    return StreamingResponse(
        _padded_to(path, size),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


class _WholeFile(Response):
    """Reads the whole file into memory (in a thread), then sends it."""

    def __init__(self, path: Path) -> None:
        super().__init__(media_type="application/octet-stream")
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.body = await anyio.to_thread.run_sync(self.path.read_bytes)
        self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


async def _buffers(root: Path, name: str, request: Request) -> Response:
    return _WholeFile(root / name)


async def _refuses_everything(root: Path, name: str, request: Request) -> Response:
    return PlainTextResponse("no such file\n", status_code=404)


def _every_range(header: str, length: int) -> Decision:
    """Each satisfiable range-spec its own part, in the order asked: no cap, no coalescing."""
    spans = []
    try:
        for spec in header.partition("=")[2].split(","):
            first, _, last = spec.strip().partition("-")
            if not first:
                spans.append((max(length - int(last), 0), length - 1))
            elif int(first) < length:
                spans.append((int(first), min(int(last), length - 1) if last else length - 1))
    except ValueError:
        return parse_range(header, length)
    return Ranges(tuple(spans)) if spans else parse_range(header, length)


async def _serves_every_range(root: Path, name: str, request: Request) -> Response:
    """The reference download, but a part for every range asked for (CVE-2011-3192)."""
    return FileDownload(root, name, filename=request.query_params.get("as"), ranges=_every_range)


class _HandsPartsOver(FileDownload):
    """The reference download, but every GET body is handed to the server by path where it
    offers ``http.response.pathsend``: ranges included, which pathsend cannot send."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions") or {}
        self._by_path_always = "http.response.pathsend" in extensions
        await super().__call__(scope, receive, send)

    async def _respond(self, scope: Scope, send: Send, opened: OpenFile) -> None:
        self._path = opened.path
        await super()._respond(scope, send, opened)

    async def _body(
        self,
        send: Send,
        fd: int,
        parts: Sequence[tuple[int, int, bytes]],
        *,
        head: bool,
        tail: bytes = b"",
        separator: bytes = b"",
    ) -> None:
        if self._by_path_always and parts and not head:
            await send({"type": "http.response.pathsend", "path": self._path})
            return
        await super()._body(send, fd, parts, head=head, tail=tail, separator=separator)


async def _hands_parts_over(root: Path, name: str, request: Request) -> Response:
    return _HandsPartsOver(root, name, filename=request.query_params.get("as"))


# --- the reference, with one request header taken away or one response header spoiled ----------


def _reference() -> ASGIApp:
    return create_app()


def without_request_headers(app: ASGIApp, *names: bytes) -> ASGIApp:
    """*app*, which never sees the request headers *names*."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() not in names]
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return wrapped


def with_request(app: ASGIApp, change: Callable[[Scope], Scope]) -> ASGIApp:
    """*app*, seeing each request scope as *change* rewrites it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        await app(change(scope) if scope["type"] == "http" else scope, receive, send)

    return wrapped


Spoil = Callable[[Scope, int, list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]


def with_response_headers(app: ASGIApp, spoil: Spoil) -> ASGIApp:
    """*app*, whose response headers *spoil* rewrites (given the scope and the status)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def spoiling_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = spoil(scope, message["status"], list(message.get("headers", [])))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, spoiling_send)

    return wrapped


def _set(name: bytes, value: Callable[[bytes], bytes]) -> Spoil:
    def spoil(
        scope: Scope, status: int, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        return [(k, value(v) if k == name else v) for k, v in headers]

    return spoil


def _drop(name: bytes, *, status: int | None = None) -> Spoil:
    def spoil(
        scope: Scope, got: int, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        if status is not None and got != status:
            return headers
        return [(k, v) for k, v in headers if k != name]

    return spoil


def _raw_disposition(
    scope: Scope, status: int, headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``attachment; filename="NAME"`` with the name as given: unescaped, CR/LF and all."""
    name = Request(scope).query_params.get("as", scope["path"].rsplit("/", 1)[-1])
    value = f'attachment; filename="{name}"'.encode()
    return [(k, value if k == b"content-disposition" else v) for k, v in headers]


def _add(name: bytes, value: bytes, *, status: int) -> Spoil:
    def spoil(
        scope: Scope, got: int, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        return [*headers, (name, value)] if got == status else headers

    return spoil


def _first_range_only(scope: Scope) -> Scope:
    headers = [(k, v.split(b",")[0] if k == b"range" else v) for k, v in scope["headers"]]
    return {**scope, "headers": headers}


def honours_later_dates(app: ASGIApp) -> ASGIApp:
    """*app*, but an If-Range date not earlier than the file's mtime lets the Range apply."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = scope["path"].removeprefix(FILES_PATH + "/")
            headers = dict(scope["headers"])
            date = _http_date(headers.get(b"if-range", b"").decode("latin-1"))
            if date is not None:
                root = await anyio.to_thread.run_sync(conformance_files.root)
                mtime = (await anyio.Path(root / name).stat()).st_mtime
                if date >= int(mtime):
                    kept = [(k, v) for k, v in scope["headers"] if k != b"if-range"]
                    scope = {**scope, "headers": kept}
        await app(scope, receive, send)

    return wrapped


def _http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _head_as_get(scope: Scope) -> Scope:
    return {**scope, "method": "GET"} if scope["method"] == "HEAD" else scope


def _constant_etag(value: bytes) -> bytes:
    return b'"same-for-every-version"'


tutorial = files_app(_tutorial)
starlette = files_app(_starlette)
naive_join = files_app(_naive_join, name_checked=False)
reads_to_end = files_app(_reads_to_end)
pads_short_file = files_app(_pads_short_file)
buffers = files_app(_buffers)
refuses_everything = files_app(_refuses_everything)
serves_every_range = files_app(_serves_every_range)
hands_parts_over = files_app(_hands_parts_over)
"""Correct where the server offers no pathsend: not in :data:`BROKEN`; on granian it fails
the range rules (``tests/test_file_suite_fails.py``)."""
ignores_range = without_request_headers(_reference(), b"range")
ignores_if_range = without_request_headers(_reference(), b"if-range")
later_if_range_dates = honours_later_dates(_reference())
no_conditionals = without_request_headers(_reference(), b"if-none-match", b"if-modified-since")
first_range_only = with_request(_reference(), _first_range_only)
head_as_get = with_request(_reference(), _head_as_get)
weak_etag = with_response_headers(_reference(), _set(b"etag", lambda v: b"W/" + v))
constant_etag = with_response_headers(_reference(), _set(b"etag", _constant_etag))
no_accept_ranges = with_response_headers(_reference(), _drop(b"accept-ranges"))
no_last_modified = with_response_headers(_reference(), _drop(b"last-modified"))
octet_stream = with_response_headers(
    _reference(), _set(b"content-type", lambda v: b"application/octet-stream")
)
no_content_range_on_416 = with_response_headers(_reference(), _drop(b"content-range", status=416))
raw_disposition = with_response_headers(_reference(), _raw_disposition)
zero_length_304 = with_response_headers(_reference(), _add(b"content-length", b"0", status=304))
cache_control_on_200_only = with_response_headers(
    _reference(), _add(b"cache-control", b"max-age=60", status=200)
)


async def _resolves_on_loop(root: Path, name: str, request: Request) -> Response:
    """The reference download, after an ``abspath`` of the name on the event loop's thread
    (flagged on every CPython; ``realpath`` is flagged only where it calls a wrapped function)."""
    os.path.abspath(root / name)  # noqa: ASYNC240 -- the defect under test
    return FileDownload(root, name, filename=request.query_params.get("as"))


resolves_on_loop = files_app(_resolves_on_loop)


BROKEN: dict[str, set[str]] = {
    "tutorial": {"FILE-LOOP-01", "FILE-LENGTH-01", "FILE-LENGTH-02", "FILE-RANGE-01"},
    "starlette": {
        "FILE-LENGTH-01",
        "FILE-LENGTH-02",
        "FILE-RANGE-04",
        "FILE-RANGE-08",
        "FILE-COND-01",
        "SURFACE-FILES-01",
    },
    "naive_join": {"FILE-NAME-01"},
    "reads_to_end": {"FILE-LENGTH-01", "FILE-LENGTH-02"},
    "pads_short_file": {"FILE-LENGTH-02"},
    "buffers": {"FILE-MEM-01"},
    "refuses_everything": {"FILE-SERVE-01"},
    "serves_every_range": {"FILE-RANGE-07"},
    "ignores_range": {"FILE-RANGE-01", "FILE-RANGE-02", "FILE-RANGE-03", "FILE-RANGE-05"},
    "ignores_if_range": {"FILE-RANGE-05"},
    "later_if_range_dates": {"FILE-RANGE-05"},
    "no_conditionals": {"FILE-COND-01", "FILE-COND-02"},
    "first_range_only": {"FILE-RANGE-02"},
    "head_as_get": {"FILE-HEAD-01"},
    "weak_etag": {"FILE-META-02"},
    "constant_etag": {"FILE-META-02"},
    "no_accept_ranges": {"FILE-META-01"},
    "no_last_modified": {"FILE-META-03", "FILE-COND-02"},
    "octet_stream": {"FILE-TYPE-01"},
    "no_content_range_on_416": {"FILE-RANGE-03"},
    "raw_disposition": {"FILE-DISP-01", "FILE-DISP-02"},
    "zero_length_304": {"FILE-COND-01", "FILE-COND-02"},
    "cache_control_on_200_only": {"FILE-COND-01", "FILE-COND-02"},
    "resolves_on_loop": {"FILE-LOOP-01"},
}
"""Each broken app, by attribute name, and the rules (non-property checks) it must fail."""


def apps() -> Iterator[tuple[str, ASGIApp]]:
    """``(name, app)`` for every broken app of :data:`BROKEN`."""
    for name in BROKEN:
        yield name, globals()[name]
