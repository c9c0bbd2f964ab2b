"""A plain-stream factory whose producer is finalized only by the cyclic garbage collector.

``app``: the kit around a stream that sends each chunk and, when the client
leaves, just stops, leaving the producer in a reference cycle (as Starlette's
``StreamingResponse`` leaves a sync or never-awaiting producer, through the
cancelled task's traceback). Its cleanup runs when the collector next finds the
cycle: with the collector running, some time within the check's window, by
luck; ``CANCEL-CLEANUP-01`` must fail it every time. A thread of the app makes
small allocations all along, as a busy server does, so that the collector does
run while the check waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio

from spec.kit import Kit, Stream, StreamRequest
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send


class _Cycle:
    """Holds the producer and itself: freed only by the cyclic collector."""

    def __init__(self, producer: Any) -> None:
        self.producer = producer
        self.me = self


def _abandoning(request: StreamRequest) -> ASGIApp:
    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", request.media_type.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        producer = request.body
        _Cycle(producer)
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch)
            if isinstance(producer, AsyncIterator):
                async for chunk in producer:
                    await send(_body(chunk))
                    await anyio.lowlevel.checkpoint()
            else:
                iterator: Iterator[Any] = producer
                for chunk in iterator:
                    await send(_body(chunk))
                    await anyio.lowlevel.checkpoint()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            group.cancel_scope.cancel()

    return respond


def _body(chunk: str | bytes) -> dict[str, Any]:
    data = chunk.encode() if isinstance(chunk, str) else chunk
    return {"type": "http.response.body", "body": data, "more_body": True}


def _allocate_all_along() -> None:
    while True:
        _ = [[] for _ in range(1000)]
        time.sleep(0.01)


threading.Thread(target=_allocate_all_along, name="allocations", daemon=True).start()

app = Kit(stream=Stream(_abandoning))
