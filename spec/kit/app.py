"""The kit's ASGI application (contract in :mod:`spec.kit` and :mod:`spec.kit.api`).

:class:`Kit` routes the surface's requests with FastAPI, inside an app of its
own (so the surface parses and refuses requests exactly as the reference app
always has: FastAPI's 422 for a query parameter out of range, the surface's
400s), and sends everything else to the implementation's ``app``. Lifespan
events go to ``app`` too (its startup arms whatever its streams wait on, such
as a shutdown notice), or are answered by the kit when there is none.

Mounted under a prefix (Starlette's ``Mount("/base", kit)``, or any server
that sets the scope's ``root_path``), the kit serves the surface below it:
routes are matched on the path with ``root_path`` taken off, as Starlette
matches its own.

Written by hand: no library implements streamspec's surface. The streams are
not the kit's: each is the ASGI application the implementation's factory
returns, called with the request's scope, ``receive`` and ``send``
(:mod:`spec.kit.factories`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match

from spec.kit import chat as chat_routes
from spec.kit import downloads, endless, gates, records, streams
from spec.kit import feed as feed_routes
from spec.kit.api import SSE, Download, Factory, SSERequest, Stream, StreamRequest
from spec.kit.capabilities import capabilities
from spec.kit.factories import Factories
from spec.kit.feed import FeedBackend
from spec.kit.gates import GateRegistry
from spec.kit.observations import Observations
from spec.surface import CAPABILITIES_PATH
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send


class Kit:
    """The conformance surface around the supplied factories; an ASGI application.

    Args:
        sse: the SSE factory (``SSERequest -> ASGIApp``, or :class:`~spec.kit.api.SSE`).
        stream: the plain-stream factory (``StreamRequest -> ASGIApp``, or
            :class:`~spec.kit.api.Stream`).
        download: the download factory (``DownloadRequest -> ASGIApp``, or
            :class:`~spec.kit.api.Download`).
        ndjson: the NDJSON factory (``NDJSONRequest -> ASGIApp``,
            :mod:`spec.kit.records`): capability ``ndjson``.
        chat: the chat factory (``ChatRequest -> ASGIApp``, :mod:`spec.kit.chat`):
            capability ``chat``; a request naming an ``id`` reports to the
            observations (served at ``/conformance/observe`` with the endless streams).
        app: the implementation's own app: lifespan events and every request the
            surface does not serve go to it (``None``: lifespan is answered, other
            paths get 404).
        feed: where the feeds live (:func:`spec.kit.feed.feed_backend`; ``None``: in
            this process's memory, which a service of several processes cannot share).

    Attributes:
        capabilities: what ``GET /conformance/capabilities`` declares, computed
            from the factories supplied (:mod:`spec.kit.capabilities`).
        gates: the gates of this kit's streams (:class:`~spec.kit.gates.GateRegistry`).
        observations: the records of this kit's endless producers.
        app: the implementation's app, as given.
    """

    def __init__(
        self,
        *,
        sse: SSE | Factory[SSERequest] | None = None,
        stream: Stream | Factory[StreamRequest] | None = None,
        download: Download | Factory[Any] | None = None,
        app: ASGIApp | None = None,
        feed: FeedBackend | None = None,
        ndjson: records.NDJSONFactory | None = None,
        chat: chat_routes.ChatFactory | None = None,
    ) -> None:
        supplied = Factories.of(sse, stream, download)
        self.app = app
        self.capabilities = capabilities(supplied)
        self.capabilities["ndjson"] = ndjson is not None
        self.capabilities["chat"] = chat is not None
        self.capabilities["gates"] = (
            self.capabilities["gates"] or ndjson is not None or chat is not None
        )
        self.gates = GateRegistry()
        self.observations = Observations()
        surface = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        surface.state.gates = self.gates  # spec.kit.gates.registry_of finds it there
        surface.add_exception_handler(ClientDisconnect, _client_left)
        declared = dict(self.capabilities)

        @surface.get(CAPABILITIES_PATH)
        async def declare() -> dict[str, bool]:
            """Declare which streams this kit serves and which observations it offers."""
            return declared

        surface.include_router(streams.build_router(supplied))
        surface.include_router(endless.build_router(supplied, self.observations))
        surface.include_router(feed_routes.build_router(supplied, feed))
        surface.include_router(downloads.build_router(supplied))
        surface.include_router(records.build_router(ndjson, self.observations))
        surface.include_router(chat_routes.build_router(chat, self.observations))
        if self.capabilities["gates"]:
            surface.include_router(gates.router)
        self._surface = surface

    def serves(self, scope: Scope) -> bool:
        """Whether *scope* (an HTTP request) is one of the surface's (a route matches its path)."""
        return any(
            route.matches(scope)[0] is not Match.NONE for route in self._surface.router.routes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.serves(scope):
            await self._surface(scope, receive, send)
        elif self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
        elif scope["type"] == "http":
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})


async def _client_left(request: Request, error: Exception) -> Response:
    """A client that left while its request body was read (``ClientDisconnect``) is no
    application error: answered with nothing anyone reads, instead of a 500 and an
    "Exception in ASGI application" in the server's log."""
    return Response(status_code=400)


async def answer_lifespan(receive: Receive, send: Send) -> None:
    """Answer a lifespan with nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
