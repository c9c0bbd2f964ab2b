"""Targets that implement none of the conformance surface, or only its declaration.

``nothing`` answers 404 to every request, the capabilities endpoint included:
an app pointed at the suite before its author added the surface.
``declaration_only`` answers ``GET /conformance/capabilities`` declaring every
capability, and 404 to everything else.

Neither may pass a rule about the target, whatever the rule looks for: a 404
from a missing endpoint is not a refusal, and nothing observed is not a pass.
(``declaration_only`` passes ``SURFACE-CAP-01``, the one rule its one endpoint
serves.)
"""

from __future__ import annotations

import json

from spec.capabilities import KNOWN
from spec.kit.app import answer_lifespan as _lifespan
from spec.surface import CAPABILITIES_PATH
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send

EVERYTHING = json.dumps(dict.fromkeys(KNOWN, True)).encode()


async def _answer(send: Send, status: int, body: bytes, media_type: bytes) -> None:
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", media_type), (b"content-length", b"%d" % len(body))],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """404 to everything."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _answer(send, 404, b"Not Found", b"text/plain")


def declaring(declaration: bytes) -> ASGIApp:
    """An app that answers the capabilities endpoint with *declaration*, 404 to the rest."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["path"] == CAPABILITIES_PATH:
            await _answer(send, 200, declaration, b"application/json")
            return
        await _answer(send, 404, b"Not Found", b"text/plain")

    return app


declaration_only = declaring(EVERYTHING)
"""Every capability declared; 404 to everything but the declaration."""

no_headers_no_gates = declaring(b'{"sse": true, "text": true, "headers": false, "gates": false}')
"""Declares neither custom headers nor the gates (not applicable decides first)."""
