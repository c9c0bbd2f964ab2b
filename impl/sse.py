"""The response that carries Server-Sent Events, encoded by the one encoder of :mod:`spec.sse`."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping

from starlette.responses import StreamingResponse

from spec.sse import Event, encode

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    # Tells nginx (and proxies that copy it) not to buffer this response.
    "X-Accel-Buffering": "no",
}


async def _encoded(events: AsyncIterable[Event]) -> AsyncIterator[bytes]:
    async for event in events:
        yield encode(event)


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` response: one body message per event, no Content-Length."""

    def __init__(
        self,
        events: AsyncIterable[Event],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            _encoded(events),
            status_code=status_code,
            headers={**SSE_HEADERS, **(headers or {})},
            media_type="text/event-stream",
        )
