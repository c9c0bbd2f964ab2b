"""Request bodies the surface reads (the feed's POST, ``/conformance/bytes``): capped.

A body is read up to a cap and no further. One that is larger, by its
``Content-Length`` or by what arrives, is answered with 413 and
``Connection: close``: the server closes the connection after the answer
instead of reading the rest of the body to reach the next request (which an
HTTP/1.1 server otherwise does, for as long as the client sends).

Written by hand: the caps are the surface's own (spec/README.md, "Conformance surface").
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from spec.kit.api import BODY_READ_KEY


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it is known to be longer than *limit* bytes
    (its declared ``Content-Length``, before anything is read, or what has arrived)."""
    request.scope[BODY_READ_KEY] = True
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        return None
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            return None
    return bytes(body)


def too_large(limit: int) -> Response:
    """413 for a body past *limit*, closing the connection once it is sent."""
    return PlainTextResponse(
        f"refused: the body is larger than {limit} bytes\n",
        status_code=413,
        headers={"Connection": "close"},
    )
