"""The kit: the whole conformance surface for any ASGI app, except the streaming itself.

An implementation under test supplies small factories written in its own
library's API (see :mod:`spec.kit.api`); the kit serves everything else of the
surface (chapter "Conformance surface"): request parsing and the 4xx answers,
gates, the endless producers of every kind with their observation records,
``/conformance/observe``, the feed (on the SSE factory), custom headers,
``/conformance/sse/stop``, the conformance files, and
``/conformance/capabilities``, computed from what was supplied.

A user's app, validated in a few lines::

    from starlette.responses import FileResponse, StreamingResponse
    from spec.kit import Kit, Stream, Download

    kit = Kit(
        stream=Stream(lambda r: StreamingResponse(r.body, media_type=r.media_type,
                                                  headers=dict(r.headers))),
        download=Download(lambda r: FileResponse(r.root / r.name, filename=r.filename)),
    )
    app = kit          # or mount it: Mount("/", kit), under any prefix

``Kit`` is an ASGI application. Mounted under a prefix (its scope's
``root_path``), it serves the surface below that prefix. An aiohttp app (not
ASGI) gets the same surface from :func:`spec.kit.aiohttp_kit.application`,
its factories aiohttp handlers (:func:`spec.kit.aiohttp_kit.handled`).
"""

from __future__ import annotations

from spec.kit.api import (
    SSE,
    Download,
    DownloadRequest,
    SSERequest,
    Stream,
    StreamRequest,
    request_of,
    routed,
)

__all__ = [
    "SSE",
    "Download",
    "DownloadRequest",
    "Kit",
    "SSERequest",
    "Stream",
    "StreamRequest",
    "request_of",
    "routed",
]

from spec.kit.app import Kit
