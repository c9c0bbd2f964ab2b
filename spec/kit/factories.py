"""The supplied factories, normalised, and how the kit answers with what they return.

A factory returns the ASGI application that streams one request (a Starlette
``Response`` is one). The kit's routes are FastAPI endpoints (they parse and
refuse requests as the reference always has), and a FastAPI endpoint must
return a ``Response``: :func:`respond` hands back a ``Response`` as it is, and
puts any other ASGI callable in :class:`Delegate`, a ``Response`` whose only
behaviour is to call that application with the request's own ``scope``,
``receive`` and ``send``. Nothing is added between the library and the
server: no buffering, no listener on ``receive``, no change to a message
(Starlette's error middleware around every route only notes that the
response has started, as it does in any Starlette or FastAPI app).

Written by hand: this is the seam between the surface and the library under
test, which no library provides.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.responses import Response

from spec.kit.api import SSE, Download, DownloadRequest, Factory, SSERequest, Stream, StreamRequest
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send

R = TypeVar("R")


class Delegate(Response):
    """A ``Response`` that is the factory's ASGI application, called as it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def respond(factory: Factory[R], request: R) -> Response:
    """What *factory* answers *request* with (awaited if it is a coroutine), as a ``Response``."""
    made: Any = factory(request)
    if inspect.isawaitable(made):
        made = await made
    if isinstance(made, Response):
        return made
    if not callable(made):
        raise TypeError(f"a factory returned {type(made).__name__}, not an ASGI application")
    return Delegate(made)


@dataclass(frozen=True)
class Factories:
    """What an implementation supplied, each ``None`` when it supplied none."""

    sse: SSE | None = None
    stream: Stream | None = None
    download: Download | None = None

    @classmethod
    def of(
        cls,
        sse: SSE | Factory[SSERequest] | None,
        stream: Stream | Factory[StreamRequest] | None,
        download: Download | Factory[DownloadRequest] | None,
    ) -> Factories:
        """Plain callables wrapped in their option holders (with the holders' defaults)."""
        return cls(
            sse=sse if sse is None or isinstance(sse, SSE) else SSE(sse),
            stream=stream if stream is None or isinstance(stream, Stream) else Stream(stream),
            download=(
                download
                if download is None or isinstance(download, Download)
                else Download(download)
            ),
        )

    def streams(self, kind: str) -> bool:
        """Whether the Stream factory serves *kind*."""
        return self.stream is not None and kind in self.stream.kinds
