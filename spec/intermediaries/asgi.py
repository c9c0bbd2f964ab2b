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
from starlette.types import ASGIApp

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
