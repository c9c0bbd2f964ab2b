"""Starlette's ``StreamingResponse`` over an async generator, for text.

Starlette has no SSE API (a Starlette app writes the framing itself, or uses
sse-starlette, the ``sse_starlette`` peer), so this peer declares ``sse: false``.
``FileResponse`` joins it when the conformance surface has a files stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from peers.request import MalformedRequest, read_chunks


async def capabilities(request: Request) -> Response:
    return JSONResponse(
        {"sse": False, "text": True, "comments": False, "files": False, "observe": False}
    )


async def text(request: Request) -> Response:
    try:
        chunks = read_chunks(request.query_params.get("chunks"))
    except MalformedRequest as error:
        return PlainTextResponse(f"refused: {error}", status_code=400)

    async def produce() -> AsyncIterator[str]:
        for chunk in chunks:
            yield chunk

    return StreamingResponse(produce(), media_type="text/plain; charset=utf-8")


app = Starlette(
    routes=[Route("/conformance/capabilities", capabilities), Route("/conformance/text", text)]
)
