"""Ask a target what it declares, once, before the checks that depend on it run."""

from __future__ import annotations

import anyio
import httpx

from spec.capabilities import Capabilities, parse
from spec.streams import fetch
from spec.surface import CAPABILITIES_PATH
from spec.targets.client import StreamClient
from spec.targets.harness import ProtocolError

_HANG_GUARD_SECONDS = 30.0


async def fetch_capabilities(client: StreamClient) -> Capabilities:
    """``GET /conformance/capabilities`` through *client*, read as a declaration."""
    with anyio.fail_after(_HANG_GUARD_SECONDS):
        try:
            fetched = await fetch(client, "GET", CAPABILITIES_PATH)
        except (ProtocolError, httpx.HTTPError) as error:
            return Capabilities(None, f"the request failed: {error}")
    if fetched.aborted:
        return Capabilities(None, f"the response broke off: {fetched.error}")
    return parse(fetched.status, fetched.body)


def probe_capabilities(client: StreamClient) -> Capabilities:
    """:func:`fetch_capabilities` from synchronous code (a session fixture)."""
    return anyio.run(fetch_capabilities, client)
