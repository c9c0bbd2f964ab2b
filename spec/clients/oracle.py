"""The suite's own SSE client: ``python -m spec.clients.oracle [--decoder=module:attr] URL``.

It is what an ``EventSource`` does with one response, minus reconnecting:
a status other than 200, or a Content-Type whose essence is not
``text/event-stream``, fails the connection (WHATWG HTML 9.2.2); otherwise the
body is fed, read by read as it arrives, to a sans-IO decoder (by default the
oracle, :class:`spec.sse.Decoder`), and each event, and each accepted retry,
is printed as soon as the read that completes it is fed (the protocol of
:mod:`spec.clients.protocol`).

:class:`OracleClient` takes those steps one method each (:meth:`refusal`,
:meth:`reads`, :meth:`dispatch`), so that a client broken in one step is the
oracle with that method replaced (``tests/broken/clients.py``); ``--decoder``
wraps any object with the decoder interface of :mod:`spec.decoders`, such as
the broken decoders of ``tests/broken/decoders.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence

import httpx

from spec.clients.protocol import Emitter
from spec.decoders import DEFAULT_DECODER, SseDecoder, load_decoder
from spec.media import EVENT_STREAM, essence
from spec.sse import Decoder, Dispatched, MessageEvent, RetryChange


class OracleClient:
    """One stream read as an ``EventSource`` reads it, reported through an :class:`Emitter`."""

    label = "streamspec oracle"

    def __init__(self, decoder: SseDecoder | None = None, emitter: Emitter | None = None) -> None:
        self.decoder = decoder if decoder is not None else Decoder()
        self.emitter = emitter if emitter is not None else Emitter()

    def refusal(self, response: httpx.Response) -> str | None:
        """Why the client fails the connection on *response*; ``None`` to read the stream."""
        if response.status_code != 200:
            return f"status {response.status_code}"
        content_type = response.headers.get("content-type")
        if essence(content_type) != EVENT_STREAM:
            return f"Content-Type {content_type!r}"
        return None

    def reads(self, response: httpx.Response) -> Iterator[bytes]:
        """The body as the decoder is fed it: each read as it arrives."""
        return response.iter_raw()

    def dispatch(self, items: Sequence[Dispatched]) -> None:
        """Report the events and accepted retries the decoder dispatched."""
        for item in items:
            if isinstance(item, MessageEvent):
                self.emitter.event(item.type, item.data, item.last_event_id)
            elif isinstance(item, RetryChange):
                self.emitter.retry(item.milliseconds)

    def run(self, url: str) -> None:
        """Read *url* once and report, from the client's name to the stream's end."""
        self.emitter.hello(self.label, observes=["retry"])
        headers = {"Accept": EVENT_STREAM, "Cache-Control": "no-store"}
        with httpx.Client(timeout=None) as client:
            request = client.build_request("GET", url, headers=headers)
            response = client.send(request, stream=True)
            try:
                refusal = self.refusal(response)
                if refusal is not None:
                    self.emitter.failed(refusal)
                    return
                for chunk in self.reads(response):
                    self.dispatch(self.decoder.feed(chunk))
                self.dispatch(self.decoder.close())
            finally:
                response.close()
        self.emitter.end()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spec.clients.oracle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url")
    parser.add_argument("--decoder", default=DEFAULT_DECODER, help="module:attr, a decoder factory")
    options = parser.parse_args(argv)
    client = OracleClient(load_decoder(options.decoder)())
    if options.decoder != DEFAULT_DECODER:
        client.label = options.decoder
    client.run(options.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
