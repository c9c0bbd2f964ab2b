"""Ask a target what it declares, once, before the checks that depend on it run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
    """:func:`fetch_capabilities` from synchronous code (a session fixture).

    It runs on an event loop of its own in a worker thread, so it works even
    when the fixture is first requested while another loop runs.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamspec-probe") as pool:
        return pool.submit(anyio.run, fetch_capabilities, client).result()
