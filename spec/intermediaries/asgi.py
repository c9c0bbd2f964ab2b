"""ASGI middleware in front of a target: Starlette's GZipMiddleware, stacked BaseHTTPMiddleware.

``behind(app, via)`` returns the target wrapped as a user would wrap it, with
each component's defaults. ``VIAS`` names them, so a chapter (the lead's
cancellation chapter, say) can parametrize over them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Via = Literal["gzip", "basehttp"]
VIAS: tuple[Via, ...] = ("gzip", "basehttp")

BASEHTTP_LAYERS = 3
"""How many ``BaseHTTPMiddleware`` layers the ``basehttp`` intermediary stacks."""


async def _pass_through(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A dispatch that only hands the request on, as logging or auth middleware does."""
    return await call_next(request)


def behind(app: ASGIApp, via: Via) -> ASGIApp:
    """*app* with the intermediary *via* in front of it."""
    if via == "gzip":
        return GZipMiddleware(app)
    wrapped = app
    for _ in range(BASEHTTP_LAYERS):
        wrapped = BaseHTTPMiddleware(wrapped, dispatch=_pass_through)
    return wrapped


def untraced(app: ASGIApp) -> ASGIApp:
    """*app* with what it raises turned into a 500 (or an ended response), never a traceback.

    uvicorn logs an app's exception with its traceback from the server thread.
    On CPython 3.11 formatting a traceback uses ``ast``, which is not safe
    while pytest formats a failure in the main thread at the same moment
    ("AST constructor recursion depth mismatch"). A middleware stack whose
    client gave up (a held-back check) raises exactly then; the check has
    already failed, so the traceback says nothing new.
    """

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, send_tracking)
        except Exception as error:
            if scope["type"] != "http":
                raise
            if not started:
                body = f"the app raised {type(error).__name__}\n".encode()
                headers = [(b"content-type", b"text/plain; charset=utf-8")]
                await send({"type": "http.response.start", "status": 500, "headers": headers})
                await send({"type": "http.response.body", "body": body})

    return call
