"""Serve an ASGI app with a real server on a free 127.0.0.1 port, in a thread: uvicorn,
hypercorn or granian (``--server``).

The suite's checks then read the stream over a real socket, as a browser or a
proxy would: chunked framing, the moment each byte leaves, a closed connection.
Streaming depends on the server as much as on the app (when ``http.disconnect``
arrives, whether ``send()`` suspends, the ASGI ``spec_version`` it advertises), so
the server is the run's choice and the report names it with its version.

Each runs HTTP/1.1 (``--http=1.1``, the default) with lifespan events when the app
supports them, in a thread of the suite's process with its own event loop, so that
the checks that observe the app's ASGI messages and its producers' records see the
same app object:

- uvicorn (the default): its h11 protocol, on a socket bound before it starts;
- hypercorn: :func:`hypercorn.asyncio.serve` on the same pre-bound socket (``fd://``);
- granian: its embedded server (``granian.server.embed``, which granian calls
  experimental), on a port chosen free just before: it binds the port itself.

With ``--http=2`` (hypercorn and granian; uvicorn has no HTTP/2) the server speaks
HTTP/2 over cleartext TCP, h2c with prior knowledge (RFC 9113 §3.3): the client
sends the connection preface at once, no ``Upgrade``. hypercorn recognises the
preface on a plain socket by itself; granian is started with ``http=HTTPModes.http2``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from typing import Any

import uvicorn

from spec.targets.asgi_types import ASGIApp

UVICORN, HYPERCORN, GRANIAN = "uvicorn", "hypercorn", "granian"
SERVERS = (UVICORN, HYPERCORN, GRANIAN)
"""The servers ``--server`` chooses from; each but uvicorn is an optional install."""

HTTP1, HTTP2 = "1.1", "2"
HTTP_VERSIONS = (HTTP1, HTTP2)
"""The protocols ``--http`` chooses from."""
HTTP2_SERVERS = (HYPERCORN, GRANIAN)
"""The servers that speak HTTP/2 (h2c with prior knowledge)."""

_START_GUARD_SECONDS = 30.0


class ServerUnavailable(RuntimeError):
    """The chosen server is not installed."""


def server_version(name: str) -> str:
    """The installed version of the server *name* (:class:`ServerUnavailable` if none)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        raise ServerUnavailable(
            f"--server={name}: {name} is not installed (python -m pip install {name})"
        ) from None


def _bound_listener() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    return listener


@contextmanager
def serve(
    app: ASGIApp,
    *,
    graceful_shutdown_seconds: int = 5,
    server: str = UVICORN,
    http: str = HTTP1,
    uvicorn_http: str | type[asyncio.Protocol] = "h11",
) -> Iterator[str]:
    """Serve *app* with *server* over *http* (:data:`HTTP1` or :data:`HTTP2`, which
    only :data:`HTTP2_SERVERS` speak) while the block runs; yield its base URL,
    ``http://127.0.0.1:PORT``.

    On leaving, the server shuts down gracefully (open streams get up to
    *graceful_shutdown_seconds*) and its thread is joined. *uvicorn_http* is
    uvicorn's HTTP/1.1 protocol (its name, an import string or a class); another
    server takes only the default.
    """
    server_version(server)
    if http not in HTTP_VERSIONS:
        raise ValueError(f"unknown HTTP version {http!r}: one of {', '.join(HTTP_VERSIONS)}")
    if http == HTTP2 and server not in HTTP2_SERVERS:
        raise ValueError(f"{server} does not speak HTTP/2: one of {', '.join(HTTP2_SERVERS)}")
    if server != UVICORN and uvicorn_http != "h11":
        raise ValueError(f"uvicorn_http={uvicorn_http!r} is uvicorn's; {server} has its own")
    if server == UVICORN:
        with _serve_uvicorn(app, graceful_shutdown_seconds, uvicorn_http) as url:
            yield url
    elif server == HYPERCORN:
        with _serve_hypercorn(app, graceful_shutdown_seconds) as url:
            yield url
    elif server == GRANIAN:
        with _serve_granian(app, graceful_shutdown_seconds, http) as url:
            yield url
    else:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")


class _Uvicorn(uvicorn.Server):
    """A uvicorn server that says when it is ready to accept connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.ready.set()


@contextmanager
def _serve_uvicorn(
    app: ASGIApp, graceful_shutdown_seconds: int, http: str | type[asyncio.Protocol]
) -> Iterator[str]:
    listener = _bound_listener()
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=http,
        ws="none",
        lifespan="auto",
        log_level="warning",
        timeout_graceful_shutdown=graceful_shutdown_seconds,
    )
    server = _Uvicorn(config)
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


@contextmanager
def _serve_hypercorn(app: ASGIApp, graceful_shutdown_seconds: int) -> Iterator[str]:
    # Optional servers are imported when chosen: uvicorn is the one dependency.
    from hypercorn.asyncio import serve as hypercorn_serve  # noqa: PLC0415
    from hypercorn.config import Config  # noqa: PLC0415

    listener = _bound_listener()
    port = listener.getsockname()[1]
    config = Config()
    # hypercorn owns (and closes) the descriptor it is given: give it a duplicate.
    config.bind = [f"fd://{os.dup(listener.fileno())}"]
    config.graceful_timeout = float(graceful_shutdown_seconds)
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    stop = asyncio.Event()
    serving = _LoopThread(
        hypercorn_serve(app, config, shutdown_trigger=stop.wait),  # type: ignore[arg-type]
        f"hypercorn:{port}",
    )
    try:
        # The socket listens already: a connection waits in its backlog until hypercorn
        # (its lifespan started) accepts it.
        yield f"http://127.0.0.1:{port}"
    finally:
        serving.stop(stop.set, graceful_shutdown_seconds + _START_GUARD_SECONDS)
        listener.close()


@contextmanager
def _serve_granian(app: ASGIApp, graceful_shutdown_seconds: int, http: str) -> Iterator[str]:
    from granian.constants import HTTPModes, Interfaces  # noqa: PLC0415
    from granian.server.embed import Server  # noqa: PLC0415

    with _bound_listener() as probe:
        port = probe.getsockname()[1]
    server: Any = Server(
        app,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http2 if http == HTTP2 else HTTPModes.auto,
        log_enabled=False,
    )
    server.workers_kill_timeout = graceful_shutdown_seconds
    serving = _LoopThread(server.serve(), f"granian:{port}")
    try:
        _wait_until_serving(port, serving)
        yield f"http://127.0.0.1:{port}"
    finally:
        serving.stop(server.stop, graceful_shutdown_seconds + _START_GUARD_SECONDS)


class _LoopThread:
    """A server's coroutine run to its end on an event loop of its own, in a daemon thread."""

    def __init__(self, serving: Coroutine[Any, Any, object], name: str) -> None:
        self.name = name
        self.failed: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, args=(serving,), name=name, daemon=True)
        self.thread.start()

    def _run(self, serving: Coroutine[Any, Any, object]) -> None:
        try:
            self._loop.run_until_complete(serving)
        except BaseException as error:
            self.failed.append(error)
        finally:
            self._loop.close()

    def stop(self, stop: Callable[[], object], within: float) -> None:
        """Call *stop* in the loop's thread (the server's way to shut down) and join the
        thread for at most *within* seconds."""
        with suppress(RuntimeError):  # the loop already closed: the server ended by itself
            self._loop.call_soon_threadsafe(stop)
        self.thread.join(within)


def _wait_until_serving(port: int, serving: _LoopThread) -> None:
    """Return once *port* accepts a connection; raise if the server's thread ended
    first, or after the start guard.

    A start-up wait for a server that binds its port itself, not a verdict: a target
    that accepts and never answers is judged by the checks (:mod:`spec.probe`).
    """
    deadline = time.monotonic() + _START_GUARD_SECONDS
    while time.monotonic() < deadline:
        if not serving.thread.is_alive():
            failed = serving.failed or "it ended"
            raise RuntimeError(f"{serving.name} did not start on port {port}: {failed}")
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.02)
    raise RuntimeError(f"{serving.name} did not start on port {port}")
