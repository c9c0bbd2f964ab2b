"""The reference app behind a middleware that fails on a request path holding a NUL byte.

The middleware raises, as ``os.stat`` does on an embedded null byte, and
Starlette's ``ServerErrorMiddleware`` answers 500 and re-raises, so the server
logs the traceback (uvicorn: "Exception in ASGI application"). The FILE
chapter's name rules catch it: ``pytest spec --rules='FILE-NAME-0*'
--target=tests.broken.nul_path:app`` fails FILE-NAME-01 and FILE-NAME-02 (a
hostile name is refused with 404 or 400, never a 500).

It is the target of issue 11: a failing property check whose failure is
reported while the server thread formats the app's traceback.
"""

from __future__ import annotations

from starlette.middleware.errors import ServerErrorMiddleware

from impl.app import create_app
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send


def fails_on_nul(app: ASGIApp) -> ASGIApp:
    """*app*, except that a request whose path holds ``"\\x00"`` raises (answered 500)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            raise ValueError(f"embedded null byte in {scope['path']!r}")
        await app(scope, receive, send)

    return ServerErrorMiddleware(wrapped)


app = fails_on_nul(create_app())
"""The broken target: ``--target=tests.broken.nul_path:app``."""
