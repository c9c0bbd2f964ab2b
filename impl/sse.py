"""The response that carries Server-Sent Events, encoded by the one encoder of :mod:`spec.sse`."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping

from impl.streaming import CHECKPOINT_EVERY, KeepAlive, ShutdownSignal, StreamResponse
from spec.sse import Event, encode, encode_comment

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    # Tells nginx (and proxies that copy it) not to buffer this response.
    "X-Accel-Buffering": "no",
}

#: The last event of a stream the server ends because it is shutting down.
#: Clients reconnect after ``retry`` milliseconds (to another instance, say).
SHUTDOWN_EVENT = Event(data="server shutting down", event="shutdown", retry=3000)

KEEPALIVE_COMMENT = encode_comment("keep-alive")


class EventStreamResponse(StreamResponse):
    """A ``text/event-stream`` response: one body message per event, no Content-Length.

    Args:
        events: the events, from an async or a sync iterable (a sync one is
            iterated in a worker thread).
        keepalive: seconds of silence after which a ``: keep-alive`` comment
            is sent; ``None`` or ``0`` sends none.
        shutdown: a signal that, when it fires, ends the stream with
            :data:`SHUTDOWN_EVENT`.
        send_timeout: seconds a client may take to accept an event before the
            stream is abandoned (see :class:`~impl.streaming.StreamResponse`).
        checkpoint_every: events between two yields to the event loop, the most
            events made after a disconnect (see :mod:`impl.streaming`).
    """

    def __init__(
        self,
        events: AsyncIterable[Event] | Iterable[Event],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        keepalive: float | None = None,
        shutdown: ShutdownSignal | None = None,
        send_timeout: float | None = None,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        super().__init__(
            events,  # type: ignore[arg-type]  # events, made bytes by encode= below
            status_code=status_code,
            headers={**SSE_HEADERS, **(headers or {})},
            media_type="text/event-stream",
            keepalive=KeepAlive(keepalive, KEEPALIVE_COMMENT) if keepalive else None,
            shutdown=shutdown,
            farewell=encode(SHUTDOWN_EVENT),
            send_timeout=send_timeout,
            encode=encode,
            checkpoint_every=checkpoint_every,
        )
