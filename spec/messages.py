"""Play one request at the ASGI message level and keep every message the app sent."""

from __future__ import annotations

import anyio

from spec.targets import harness
from spec.targets.asgi_types import ASGIApp
from spec.targets.client import Params

_GUARD_SECONDS = 30.0


async def run_exchange(
    app: ASGIApp,
    method: str,
    path: str,
    params: Params = (),
    body: bytes = b"",
    *,
    prefix: str = "",
) -> harness.Exchange:
    """Play one request against *app* and read its body to the end (hang guard: 30 s).

    *path* is put below *prefix*, the target's base path.
    """
    scope = harness.build_scope(method, path, params=params, prefix=prefix)
    with anyio.fail_after(_GUARD_SECONDS):
        async with harness.exchange(app, scope, body=body) as exchange:
            await exchange.wait_start()
            async for _ in exchange.iter_body():
                pass
    return exchange


def sent_bodies(exchange: harness.Exchange) -> list[bytes]:
    """The non-empty bodies of the app's ``http.response.body`` messages so far."""
    return [bytes(m.get("body", b"")) for m in exchange.body_messages if m.get("body")]
