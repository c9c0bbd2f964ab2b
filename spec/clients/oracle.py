"""The suite's own SSE client: ``python -m spec.clients.oracle [--decoder=module:factory] URL``.

It is what an ``EventSource`` does with one response, minus reconnecting:
a status other than 200, or a Content-Type whose essence is not
``text/event-stream``, fails the connection (WHATWG HTML 9.2.3, "announce the
connection" is reached only for those); otherwise the body is fed, read by
read as it arrives, to a sans-IO decoder (by default the oracle,
:class:`spec.sse.Decoder`), and each event, and each accepted retry, is
printed as soon as the read that completes it is fed (the protocol of
:mod:`spec.clients.protocol`).

``--decoder`` wraps any object with the decoder interface of
:mod:`spec.decoders`, so the client chapter can be shown to fail on the broken
decoders of ``tests/broken/decoders.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import httpx

from spec.clients.protocol import Emitter
from spec.decoders import DEFAULT_DECODER, load_decoder
from spec.sse import Dispatched, MessageEvent, RetryChange

EVENT_STREAM = "text/event-stream"


def essence(content_type: str | None) -> str:
    """The MIME type essence of a Content-Type value: type/subtype, lower case, no parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _emit(emitter: Emitter, items: Sequence[Dispatched]) -> None:
    for item in items:
        if isinstance(item, MessageEvent):
            emitter.event(item.type, item.data, item.last_event_id)
        elif isinstance(item, RetryChange):
            emitter.retry(item.milliseconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spec.clients.oracle", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--decoder", default=DEFAULT_DECODER, help="module:factory")
    options = parser.parse_args(argv)
    emitter = Emitter()
    label = "streamspec oracle" if options.decoder == DEFAULT_DECODER else options.decoder
    emitter.hello(label, observes=["retry"])
    decoder = load_decoder(options.decoder)()
    headers = {"Accept": EVENT_STREAM, "Cache-Control": "no-store"}
    with httpx.Client(timeout=None) as client:
        request = client.build_request("GET", options.url, headers=headers)
        response = client.send(request, stream=True)
        try:
            if response.status_code != 200:
                emitter.failed(f"status {response.status_code}")
                return 0
            content_type = response.headers.get("content-type")
            if essence(content_type) != EVENT_STREAM:
                emitter.failed(f"Content-Type {content_type!r}")
                return 0
            for chunk in response.iter_raw():
                _emit(emitter, decoder.feed(chunk))
            _emit(emitter, decoder.close())
        finally:
            response.close()
    emitter.end()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
