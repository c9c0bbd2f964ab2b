"""Ten lines of ASGI: an endless response of 1 MiB chunks that gives up on a client that
stops reading (a send that waits 0.5 s ends it), as a send timeout does.

Served with ``hypercorn stalled_app:app --workers 0 --graceful-timeout 1``, a SIGTERM with
such a client connected ends the process at once on Python 3.11, and never on 3.12 and
later: the app has returned, but hypercorn's shutdown awaits
``asyncio.Server.wait_closed()``, which since 3.12 waits for every connection to be gone
(pgjones/hypercorn#308), and the connection, closed behind bytes its client will never
read, never drains.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    chunk = {"type": "http.response.body", "body": b"x" * (1 << 20), "more_body": True}
    while True:
        try:
            await asyncio.wait_for(send(chunk), 0.5)
        except TimeoutError:
            return
