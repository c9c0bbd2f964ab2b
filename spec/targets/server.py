"""Serve an ASGI app with a real uvicorn on a free 127.0.0.1 port, in a thread.

The suite's checks then read the stream over a real socket, as a browser or a
proxy would: chunked framing, the moment each byte leaves, a closed connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from spec.targets.asgi_types import ASGIApp

_START_GUARD_SECONDS = 30.0


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is ready to accept connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.ready.set()


@contextmanager
def serve(app: ASGIApp, *, graceful_shutdown_seconds: int = 5) -> Iterator[str]:
    """Serve *app* while the block runs and yield its base URL, ``http://127.0.0.1:PORT``.

    The port is bound before uvicorn starts, so no other process can take it in
    between. uvicorn runs its default HTTP/1.1 protocol (h11), with lifespan
    events on when the app supports them.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app,
        http="h11",
        ws="none",
        lifespan="auto",
        log_level="warning",
        timeout_graceful_shutdown=graceful_shutdown_seconds,
    )
    server = _Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name=f"uvicorn:{port}", daemon=True
    )
    thread.start()
    try:
        if not server.ready.wait(_START_GUARD_SECONDS):
            raise RuntimeError(f"uvicorn did not start on port {port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(graceful_shutdown_seconds + _START_GUARD_SECONDS)
        listener.close()
