"""sseclient-py: ``SSEClient(source).events()`` over the body's bytes as they arrive.

sseclient-py parses whatever byte iterable it is given; fetching the URL is
the caller's job, done here with httpx, the body handed over read by read
(``iter_raw``), with no check of status or Content-Type, because the library
makes none. ``Event.id`` is the id field of the event's own block (``None``
without one; reported as the empty string); ``Event.retry`` is the field's
raw text, which sets no reconnection time, so retry is not reported.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib import metadata

import httpx
from sseclient import SSEClient

from spec.clients.protocol import Emitter


class _Body(Iterator[bytes]):
    """The byte source sseclient-py expects: an iterator of reads, with ``close()``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._reads = response.iter_raw()

    def __next__(self) -> bytes:
        return next(self._reads)

    def close(self) -> None:
        self._response.close()


def main(url: str) -> int:
    emitter = Emitter()
    emitter.hello(f"sseclient-py {metadata.version('sseclient-py')}")
    headers = {"Accept": "text/event-stream"}
    with httpx.Client(timeout=None) as client, client.stream("GET", url, headers=headers) as body:
        for event in SSEClient(_Body(body)).events():
            emitter.event(event.event, event.data, event.id or "")
    emitter.end()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
