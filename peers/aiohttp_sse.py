"""aiohttp with aiohttp-sse: ``sse_response`` and ``send``; text with aiohttp's ``StreamResponse``.

aiohttp is its own server, so this peer is a command target::

    python -m peers.aiohttp_sse --port 8080

aiohttp-sse checks an event's id and type when it is sent, after the response
has started: an event it refuses ends the stream there (nothing of it is
written). It has no way to send a comment: the peer declares
``comments: false`` (the suite then sends none) and answers 400 to an event
with a comment, before the stream starts.
"""

from __future__ import annotations

import argparse

from aiohttp import web
from aiohttp_sse import sse_response

from peers.request import MalformedRequest, read_chunks, read_events


async def capabilities(request: web.Request) -> web.StreamResponse:
    return web.json_response(
        {"sse": True, "text": True, "comments": False, "files": False, "observe": False}
    )


async def sse(request: web.Request) -> web.StreamResponse:
    try:
        events = read_events(request.query.get("events"))
    except MalformedRequest as error:
        return web.Response(status=400, text=f"refused: {error}")
    if any(event.comment is not None for event in events):
        return web.Response(status=400, text="refused: aiohttp-sse cannot send comments")
    async with sse_response(request) as response:
        for event in events:
            try:
                await response.send(event.data, id=event.id, event=event.event, retry=event.retry)
            except ValueError:
                break
    return response


async def text(request: web.Request) -> web.StreamResponse:
    try:
        chunks = read_chunks(request.query.get("chunks"))
    except MalformedRequest as error:
        return web.Response(status=400, text=f"refused: {error}")
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk.encode("utf-8"))
    await response.write_eof()
    return response


def build_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/conformance/capabilities", capabilities)
    app.router.add_get("/conformance/sse", sse)
    app.router.add_get("/conformance/text", text)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    options = parser.parse_args()
    web.run_app(build_app(), host=options.host, port=options.port, print=None)


if __name__ == "__main__":
    main()
