"""Starlette: ``StreamingResponse`` for plain streams, ``FileResponse`` for downloads, on the kit.

The kit (:mod:`spec.kit`) serves the surface; this peer is two factories in
Starlette's own API, written as Starlette's documentation shows them:

* every plain stream (text, log lines, echoed bytes, the CANCEL chapter's
  endless lines) is a ``StreamingResponse`` over the kit's producer, handed
  over as it is: Starlette takes an async iterator (one that awaits between
  items, or one that never awaits) and iterates a sync one in its thread pool
  (``iterate_in_threadpool``); the media type and the suite's headers
  (``Content-Length`` among them when the suite asks for one) are passed as
  the constructor's ``media_type=`` and ``headers=``;
* a download is a ``FileResponse`` (``Content-Length``, ``ETag``,
  ``Last-Modified``, ``Accept-Ranges``, ranges and ``If-Range`` are the
  library's), ``filename=`` the name the suite asked to see (else the name
  asked for). The requested name is resolved below the root by Starlette's
  ``StaticFiles.lookup_path``, the lookup its ``StaticFiles`` serves every file
  with (its documented way to serve files from a directory: it refuses
  absolute names, resolves the name with ``os.path.realpath`` and refuses one
  that leads out of the directory, symlinks included), run in a worker thread
  as ``StaticFiles`` runs it; what it does not find is a 404, as
  ``StaticFiles`` answers (a NUL byte or an over-long name included).

Starlette has no SSE API (a Starlette app writes the framing itself, or uses
sse-starlette: the ``sse_starlette`` peer), so the peer supplies no SSE
factory and the SSE rules are not applicable. It has no send timeout either:
``send_timeout`` is not used.
"""

from __future__ import annotations

import os
import stat

import anyio.to_thread
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.staticfiles import StaticFiles

from spec.kit import Download, DownloadRequest, Kit, Stream, StreamRequest


def stream(request: StreamRequest) -> StreamingResponse:
    return StreamingResponse(
        request.body, media_type=request.media_type, headers=dict(request.headers)
    )


def lookup(root: str, name: str) -> tuple[str, os.stat_result | None]:
    """*name* below *root* as ``StaticFiles(directory=root)`` finds it (a worker thread's work)."""
    return StaticFiles(directory=root).lookup_path(name)


async def download(request: DownloadRequest) -> Response:
    try:
        path, found = await anyio.to_thread.run_sync(lookup, str(request.root), request.name)
    except (ValueError, OSError):  # a NUL byte, a name too long: StaticFiles answers 404
        found = None
    if found is None or not stat.S_ISREG(found.st_mode):
        return PlainTextResponse("Not Found", status_code=404)
    filename = request.filename or os.path.basename(request.name)
    return FileResponse(path, stat_result=found, filename=filename)


app = Kit(stream=Stream(stream), download=Download(download))
