"""httpx-sse: ``connect_sse`` and ``EventSource.iter_sse()``, as its README shows.

``ServerSentEvent.id`` is the decoder's last event id, ``.retry`` the retry
value of the event's own block (reported before the event). httpx-sse raises
``SSEError`` for a Content-Type without ``text/event-stream``; that is its
way of failing the connection. It does not look at the status: that is left
to the caller, and this adapter does not add it.
"""

from __future__ import annotations

import sys
from importlib import metadata

import httpx
from httpx_sse import SSEError, connect_sse

from spec.clients.protocol import Emitter


def main(url: str) -> int:
    emitter = Emitter()
    emitter.hello(f"httpx-sse {metadata.version('httpx-sse')}", observes=["retry"])
    with httpx.Client(timeout=None) as client, connect_sse(client, "GET", url) as source:
        try:
            for event in source.iter_sse():
                if event.retry is not None:
                    emitter.retry(event.retry)
                emitter.event(event.event, event.data, event.id)
        except SSEError as error:
            emitter.failed(str(error))
            return 0
    emitter.end()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
