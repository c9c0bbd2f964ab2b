"""Serve an ASGI app with uvicorn in this process, twice in a row, each until SIGTERM.

``python -m spec.targets.serve_twice module:attr PORT1 PORT2`` prints
``serving 1`` when the first server accepts connections on PORT1, and
``serving 2`` for the second on PORT2, which starts once the first has shut
down. The suite uses it to show that one server's shutdown does not leak into
a later server in the same process (as a process-wide "should exit" flag does).

Both servers run in the main thread, as ``uvicorn module:attr`` would, so they
install their own signal handlers.
"""

from __future__ import annotations

import signal
import socket
import sys

import uvicorn

from spec.targets.target import load_target


class _Announcing(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, label: str) -> None:
        super().__init__(config)
        self.label = label

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        print(f"serving {self.label}", flush=True)


def main(argv: list[str]) -> int:
    target, first, second = argv
    app = load_target(target).app
    # uvicorn re-raises the signal it captured once it has shut down; with this
    # handler in place, that re-raise does not end the process.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    for label, port in (("1", int(first)), ("2", int(second))):
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
        _Announcing(config, label).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
