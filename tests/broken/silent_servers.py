"""Servers on the wire that never do what a client waits for, each in one way.

Each serves raw TCP on a loopback port, in a thread, and is a ``--target=URL``
for a child ``pytest spec`` run (``tests/test_silent_targets.py``): the suite
must end, write its report and fail every check that needs the wire, saying
what it waited for, instead of hanging.

* ``never_answers``: accepts the connection, reads the request, never writes;
* ``never_ends_body``: sends a status line, chunked headers and one chunk, then nothing;
* ``never_starts_body``: sends a status line and chunked headers, then nothing;
* ``never_accepts``: listens with a backlog of one that is full (one connection
  made at start and never accepted), so that no later connection is accepted.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MODES = ("never_answers", "never_ends_body", "never_starts_body", "never_accepts")

_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Transfer-Encoding: chunked\r\nCache-Control: no-store\r\n\r\n"
)


def _serve(listener: socket.socket, mode: str, stop: threading.Event) -> None:
    held: list[socket.socket] = []
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        held.append(connection)  # never closed while the server runs: the client waits
        try:
            connection.settimeout(5)
            connection.recv(65536)
            if mode == "never_ends_body":
                connection.sendall(_HEAD + b"7\r\ndata: a\r\n")
            elif mode == "never_starts_body":
                connection.sendall(_HEAD)
        except OSError:
            continue
    for connection in held:
        connection.close()


@contextmanager
def silent_server(mode: str) -> Iterator[str]:
    """Run the server of *mode* (one of :data:`MODES`) while the block runs; yield its URL."""
    if mode not in MODES:
        raise ValueError(mode)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    filler: socket.socket | None = None
    thread: threading.Thread | None = None
    if mode == "never_accepts":
        listener.listen(0)
        filler = socket.create_connection(("127.0.0.1", port))  # fills the accept queue
    else:
        listener.listen(16)
        thread = threading.Thread(target=_serve, args=(listener, mode, stop), daemon=True)
        thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        if thread is not None:
            thread.join(5)
        if filler is not None:
            filler.close()
        listener.close()
