"""Ask a target what it declares, once, before the checks that depend on it run; and
make sure, once, that a target on the wire answers at all.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import anyio
import h11
import httpx

from spec import patience
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


class TargetSilent(AssertionError):
    """The target on the wire does not answer: every check that needs the wire fails with this."""


async def why_silent(base_url: str) -> str | None:
    """Why the server at *base_url* does not answer ``GET /conformance/capabilities``, or ``None``.

    One request on a raw connection, each step waited for within a load-aware
    window (:func:`spec.patience.patience`, twice over): the connection is
    accepted, a status line and headers come, the body begins (if it has
    one) and ends; the request goes below *base_url*'s path (the target's
    prefix). Any answer will do, a 404 too: this only tells a target
    that answers from one that never will, so that the checks fail at once
    with what was waited for instead of each sitting out its own guards.
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    window = 2 * patience.patience()
    path = parts.path.rstrip("/") + CAPABILITIES_PATH
    what = f"GET {path} at {base_url}"
    connected = await patience.within(window, lambda: anyio.connect_tcp(host, port))
    if not connected.arrived or connected.value is None:
        return f"no connection to {host}:{port} was accepted within {window:g} s"
    async with connected.value as stream:
        connection = h11.Connection(h11.CLIENT)
        request = h11.Request(method="GET", target=path, headers=[("Host", host)])
        await stream.send(connection.send(request) + (connection.send(h11.EndOfMessage()) or b""))
        body_bytes = 0

        async def next_event() -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
            while (event := connection.next_event()) is h11.NEED_DATA:
                try:
                    connection.receive_data(await stream.receive())
                except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                    connection.receive_data(b"")
            return event

        stage = "a status line and headers"
        while True:
            try:
                waited = await patience.within(window, next_event)
            except h11.RemoteProtocolError:
                return None  # it answered; the checks judge how
            if not waited.arrived:
                return f"{what}: {stage} did not arrive within {window:g} s"
            event = waited.value
            if isinstance(event, h11.Response):
                stage = "the first body byte after the headers"
            elif isinstance(event, h11.Data):
                body_bytes += len(event.data)
                stage = f"the end of the body (after {body_bytes} bytes)"
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return None


def probe_silence(base_url: str) -> str | None:
    """:func:`why_silent` from synchronous code (a session fixture), on a loop of its own."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamspec-probe") as pool:
        return pool.submit(anyio.run, why_silent, base_url).result()
