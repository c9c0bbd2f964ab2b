"""Serve an ASGI app in this process, twice in a row, each time until SIGTERM.

``python -m spec.targets.serve_twice module:attr PORT1 PORT2 [SERVER]`` prints
``serving 1`` when the first server accepts connections on PORT1, and
``serving 2`` for the second on PORT2, which starts once the first has shut
down. The suite uses it to show that one server's shutdown does not leak into
a later server in the same process (as a process-wide "should exit" flag does).

SERVER is uvicorn (the default), hypercorn or granian. Each server runs in the
main thread, on an event loop of its own, and is stopped by SIGTERM the way its
command line stops it, its signal handler in place before the app's lifespan
starts:

- uvicorn: ``uvicorn.Server.run``, which installs its own handlers;
- hypercorn: :func:`hypercorn.asyncio.serve` with no ``shutdown_trigger``, so it
  installs its own (``loop.add_signal_handler``), with ``graceful_timeout`` as
  :mod:`spec.targets.process` gives it; hypercorn binds a socket this module
  listens on already (``fd://``), and ``serving N`` is printed once it listens;
- granian: its embedded server (``granian.server.embed``, experimental), which
  installs no handler: this module stops it on SIGTERM (``Server.stop`` from
  ``loop.add_signal_handler``, installed before ``serve()``, as granian's own
  workers do), with ``workers_kill_timeout`` as :mod:`spec.targets.process` gives it;
  ``serving N`` is printed once the port accepts a connection (granian's worker binds it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from typing import Any

import uvicorn

from spec.targets.asgi_types import ASGIApp
from spec.targets.process import GRACE_SECONDS
from spec.targets.server import GRANIAN, HYPERCORN, SERVERS, UVICORN
from spec.targets.target import load_target

HOST = "127.0.0.1"


class _Announcing(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, label: str) -> None:
        super().__init__(config)
        self.label = label

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        print(f"serving {self.label}", flush=True)


def _serve_uvicorn(app: ASGIApp, port: int, label: str) -> None:
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", ws="none")
    _Announcing(config, label).run()


def _serve_hypercorn(app: ASGIApp, port: int, label: str) -> None:
    # Optional servers are imported when chosen: uvicorn is the one dependency.
    from hypercorn.asyncio import serve  # noqa: PLC0415
    from hypercorn.config import Config  # noqa: PLC0415

    with socket.create_server((HOST, port)) as listener:
        config = Config()
        config.bind = [f"fd://{os.dup(listener.fileno())}"]  # hypercorn closes what it gets
        config.graceful_timeout = float(GRACE_SECONDS)
        config.accesslog = None
        print(f"serving {label}", flush=True)
        asyncio.run(serve(app, config))  # type: ignore[arg-type]


def _serve_granian(app: ASGIApp, port: int, label: str) -> None:
    from granian.constants import Interfaces  # noqa: PLC0415
    from granian.server.embed import Server  # noqa: PLC0415

    server: Any = Server(app, address=HOST, port=port, interface=Interfaces.ASGI, log_enabled=False)
    server.workers_kill_timeout = GRACE_SECONDS

    async def announce() -> None:
        # granian's worker binds the port itself (SO_REUSEPORT), after its startup hooks:
        # serving is announced once the port accepts a connection.
        while True:
            try:
                _, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            print(f"serving {label}", flush=True)
            return

    async def main() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, server.stop)
        announcing = asyncio.create_task(announce())
        await server.serve()
        announcing.cancel()

    asyncio.run(main())


_SERVE = {UVICORN: _serve_uvicorn, HYPERCORN: _serve_hypercorn, GRANIAN: _serve_granian}


def _ignore(signum: int, frame: object) -> None:
    """Between two servers SIGTERM does nothing: uvicorn re-raises the signal it captured
    once it has shut down, and an event loop that closes leaves the default handler."""


def main(argv: list[str]) -> int:
    target, first, second, *rest = argv
    server = rest[0] if rest else UVICORN
    if server not in SERVERS:
        print(f"unknown server {server!r}: one of {', '.join(SERVERS)}", file=sys.stderr)
        return 2
    app = load_target(target).app
    for label, port in (("1", int(first)), ("2", int(second))):
        signal.signal(signal.SIGTERM, _ignore)
        _SERVE[server](app, port, label)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
