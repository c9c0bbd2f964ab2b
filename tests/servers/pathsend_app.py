"""Ten lines of ASGI: the file whose absolute path is the request's path, handed to the server
by ``http.response.pathsend`` under the Content-Length of its size at the request.

A test-only app (it serves any path it is asked for). Under ``granian --http 2`` a file that
grows or shrinks once its head has gone out arrives as granian then reads it, to its end,
whatever the Content-Length said (tests/test_granian_pathsend.py, no streamspec code).
"""

from __future__ import annotations

import os
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    assert "http.response.pathsend" in scope["extensions"], "a server without pathsend"
    length = os.stat(scope["path"]).st_size
    head = [(b"content-length", str(length).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": head})
    await send({"type": "http.response.pathsend", "path": scope["path"]})
