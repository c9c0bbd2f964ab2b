"""A stand-in client for a transport the target cannot be observed through.

A target given by URL or by command is a server on the wire: its ASGI messages
cannot be seen. The ``asgi`` transport of ``stream_client`` is then this
client, and any check that uses it ends as *not observable*, with the reason,
when it asks for a stream (never a pass). The check is ended on use rather than
at fixture set-up so that a check whose rule does not apply to the target is
reported as *not applicable* first.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import TracebackType

from spec.rules import not_observable
from spec.targets.client import Headers, Params, StreamedResponse


@dataclass
class UnobservableClient:
    """A :class:`~spec.targets.client.StreamClient` whose every request is not observable."""

    transport: str
    reason: str

    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Params = (),
        headers: Headers = (),
        body: bytes = b"",
    ) -> AbstractAsyncContextManager[StreamedResponse]:
        return _NotObservable(self.reason)


@dataclass
class _NotObservable(AbstractAsyncContextManager[StreamedResponse]):
    reason: str

    async def __aenter__(self) -> StreamedResponse:
        not_observable(self.reason)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None
