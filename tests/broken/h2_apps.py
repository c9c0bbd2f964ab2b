"""Apps that break the HTTP2 chapter, each in one way, over any server that speaks HTTP/2.

Each is the reference app (``impl.app:app``) behind one ASGI middleware, so that
everything but the one broken choice behaves as the reference does:

* ``unfinished``: drops a stream's last body message (``more_body`` false) and
  returns: a complete body the server cannot end with END_STREAM (fails
  ``HTTP2-END-01``).
* ``swallowing``: a producer's error ends the body cleanly, with a final body
  message: END_STREAM on a truncated body (fails ``HTTP2-ABORT-01``).
* ``deaf``: the endless streams' ``receive`` never returns ``http.disconnect``:
  a producer waiting on its own I/O is never told its stream was reset (fails
  ``HTTP2-RESET-01``).
* ``serialized``: one lock around every ``send`` of every response: a send the
  server holds back for one stream's closed window holds back every other
  stream (fails ``HTTP2-FLOW-01`` on a server whose ``send`` waits for the
  window, granian; hypercorn buffers instead, so nothing waits there).
"""

from __future__ import annotations

import anyio

from impl.app import app as reference
from spec.surface import ENDLESS_PATH, SSE_PATH, TEXT_PATH
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send

_STREAM_PATHS = (ENDLESS_PATH, SSE_PATH, TEXT_PATH)


def _streams(scope: Scope) -> bool:
    return scope["type"] == "http" and str(scope.get("path", "")).startswith("/conformance/")


def unfinishing(app: ASGIApp) -> ASGIApp:
    """*app*, its responses' last body message dropped (an empty one) or sent as not last."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if not (_streams(scope) and str(scope["path"]).endswith(_STREAM_PATHS)):
            await app(scope, receive, send)
            return

        async def without_end(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                if message.get("body"):
                    await send({**message, "more_body": True})
                return
            await send(message)

        await app(scope, receive, without_end)

    return broken


def swallowing_errors(app: ASGIApp) -> ASGIApp:
    """*app*, a response's error after its start swallowed and its body ended cleanly."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        started: list[bool] = []

        async def tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(True)
            await send(message)

        try:
            await app(scope, receive, tracking)
        except Exception:
            if not started:
                raise
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return broken


def deaf_to_disconnects(app: ASGIApp) -> ASGIApp:
    """*app*, the endless streams' ``receive`` waiting for ever after the request body."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if not (_streams(scope) and str(scope["path"]).endswith(ENDLESS_PATH)):
            await app(scope, receive, send)
            return
        body_read: list[bool] = []

        async def never_disconnected() -> Message:
            if not body_read:
                body_read.append(True)
                return await receive()
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        await app(scope, never_disconnected, send)

    return broken


def serializing_sends(app: ASGIApp) -> ASGIApp:
    """*app*, every response's ``send`` taken in turn under one lock."""
    lock = anyio.Lock()

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        # The streams only: the gates and observations that steer them are not held.
        if not (_streams(scope) and str(scope["path"]).endswith(_STREAM_PATHS)):
            await app(scope, receive, send)
            return

        async def in_turn(message: Message) -> None:
            async with lock:
                await send(message)

        await app(scope, receive, in_turn)

    return broken


unfinished = unfinishing(reference)
swallowing = swallowing_errors(reference)
deaf = deaf_to_disconnects(reference)
serialized = serializing_sends(reference)
