"""Read a whole response through a :class:`~spec.targets.client.StreamClient`, keeping its cuts."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from spec.rules import not_observable
from spec.targets.client import Headers, Params, StreamClient
from spec.targets.harness import ProtocolError


@dataclass
class Fetched:
    """A response read to its end (or to the point where the connection broke).

    Attributes:
        chunks: the body as it arrived, one item per message or socket read.
        aborted: the body ended without a proper end (the app raised, the
            connection dropped inside the chunked encoding); ``error`` says how.
    """

    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes] = field(default_factory=list)
    aborted: bool = False
    error: str = ""

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def header(self, name: str) -> str | None:
        """The first value of header *name* (any case), or ``None``."""
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)


async def fetch(
    client: StreamClient,
    method: str,
    path: str,
    *,
    params: Params = (),
    headers: Headers = (),
    body: bytes = b"",
) -> Fetched:
    """Request *path* and read the body to its end, recording each chunk as it came."""
    async with client.stream(method, path, params=params, headers=headers, body=body) as response:
        fetched = Fetched(response.status, response.headers)
        try:
            async for chunk in response.chunks():
                fetched.chunks.append(chunk)
        except (ProtocolError, httpx.TransportError) as error:
            fetched.aborted = True
            fetched.error = f"{type(error).__name__}: {error}"
    return fetched


async def served(
    client: StreamClient,
    method: str,
    path: str,
    *,
    params: Params = (),
    headers: Headers = (),
    body: bytes = b"",
    why: str,
) -> Fetched:
    """A request the surface must serve, read whole: the control of a check of refusals.

    A check that passes when the target refuses something (a 4xx, a 404, an
    empty stream) says nothing about a target that refuses everything, or does
    not implement the endpoint at all. So it first asks for something the
    surface serves; unless the answer is a complete ``2xx``, the check ends
    *not observable*, saying *why* the control was needed.
    """
    fetched = await fetch(client, method, path, params=params, headers=headers, body=body)
    if not 200 <= fetched.status < 300 or fetched.aborted:
        answer = fetched.error if fetched.aborted else f"status {fetched.status}"
        not_observable(
            f"{method} {path}, a request the surface serves, got {answer}, "
            f"so {why} (the surface chapter's rules judge the endpoint itself)"
        )
    return fetched
