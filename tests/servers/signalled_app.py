"""Ten lines of ASGI: one held response that ends with ``bye`` when the process gets SIGTERM.

At lifespan startup the app chains a SIGTERM handler in front of the server's, as any app
that wants to hear of a shutdown must (the servers end the lifespan only after the open
responses). Under ``hypercorn signalled_app:app`` (one worker process, hypercorn's default)
the handler never runs: the worker is told through a ``multiprocessing.Event``, and after
``--graceful-timeout`` the response is cut off; with ``--workers 0`` it ends with ``bye``.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

shutting_down: asyncio.Event | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global shutting_down
    if scope["type"] == "lifespan":
        await receive()
        shutting_down, loop = asyncio.Event(), asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)

        def handler(signum: int, frame: Any) -> None:
            loop.call_soon_threadsafe(shutting_down.set)  # type: ignore[union-attr]
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGTERM, handler)
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello\n", "more_body": True})
    assert shutting_down is not None
    await shutting_down.wait()
    await send({"type": "http.response.body", "body": b"bye\n"})
