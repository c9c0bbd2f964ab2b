"""The kit's ASGI application (contract in :mod:`spec.kit` and :mod:`spec.kit.api`)."""

from __future__ import annotations

from typing import Any

from spec.kit.api import SSE, Download, Factory, SSERequest, Stream, StreamRequest
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send


class Kit:
    """The conformance surface around the supplied factories; an ASGI application.

    Args:
        sse: the SSE factory (``SSERequest -> ASGIApp``, or :class:`~spec.kit.api.SSE`).
        stream: the plain-stream factory (``StreamRequest -> ASGIApp``, or
            :class:`~spec.kit.api.Stream`).
        download: the download factory (``DownloadRequest -> ASGIApp``, or
            :class:`~spec.kit.api.Download`).
        app: the implementation's own app: lifespan events and every request the
            surface does not serve go to it (``None``: lifespan is answered, other
            paths get 404).
    """

    def __init__(
        self,
        *,
        sse: SSE | Factory[SSERequest] | None = None,
        stream: Stream | Factory[StreamRequest] | None = None,
        download: Download | Factory[Any] | None = None,
        app: ASGIApp | None = None,
    ) -> None:
        raise NotImplementedError("the kit is being built (issue 12)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
