"""The suite's own SSE client: ``python -m spec.clients.oracle [--decoder=module:attr] URL``.

It is what an ``EventSource`` does (WHATWG HTML 9.2.3, the processing model):
a status other than 200, or a Content-Type whose essence is not
``text/event-stream``, fails the connection; otherwise the body is fed, read
by read as it arrives, to a sans-IO decoder (by default the oracle,
:class:`spec.sse.Decoder`), and each event, and each accepted retry, is
printed as soon as the read that completes it is fed (the protocol of
:mod:`spec.clients.protocol`). With ``reconnect=1`` in the URL it
reestablishes the connection when a response ends or the connection drops:
it waits the reconnection time (the last accepted ``retry``, else
:data:`DEFAULT_RECONNECTION_MS`), then asks again with ``Last-Event-ID`` set
to the last event ID string when that is not empty, parsing the new response
with a fresh decoder that carries the string over; it stops for good only
when it fails the connection. Without it, it reads one response.

:class:`OracleClient` takes those steps one method each (:meth:`refusal`,
:meth:`reads`, :meth:`dispatch`, :meth:`delay`, :meth:`resume_header`,
:meth:`after_network_error`, :meth:`reconnects`, :meth:`retries_after`), so
that a client broken in one step is the oracle with that method replaced
(``tests/broken/clients.py``); ``--decoder`` wraps any object with the decoder
interface of :mod:`spec.decoders`, such as the broken decoders of
``tests/broken/decoders.py``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from urllib.parse import parse_qs, urlsplit

import httpx

from spec.clients.protocol import Emitter
from spec.decoders import DEFAULT_DECODER, DecoderFactory, SseDecoder, load_decoder
from spec.media import EVENT_STREAM, essence
from spec.sse import Decoder, Dispatched, MessageEvent, RetryChange

DEFAULT_RECONNECTION_MS = 3000
"""The reconnection time before any ``retry`` ("a few seconds"; Chromium's too)."""


class Refused(Exception):
    """The client fails the connection on a response of *status*, for the reason given."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class OracleClient:
    """A stream read as an ``EventSource`` reads it, reported through an :class:`Emitter`."""

    label = "streamspec oracle"

    def __init__(
        self, decoder: DecoderFactory | None = None, emitter: Emitter | None = None
    ) -> None:
        self.new_decoder: DecoderFactory = decoder if decoder is not None else Decoder
        self.decoder: SseDecoder = self.new_decoder()
        self.emitter = emitter if emitter is not None else Emitter()
        self.reconnection_ms = DEFAULT_RECONNECTION_MS
        self.last_event_id = ""

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
                self.reconnection_ms = item.milliseconds
                self.emitter.retry(item.milliseconds)

    def delay(self) -> float:
        """Seconds to wait before reconnecting: the reconnection time."""
        return self.reconnection_ms / 1000

    def resume_header(self) -> str | None:
        """The ``Last-Event-ID`` of the next request: the last event ID string, unless empty."""
        return self.last_event_id or None

    def after_network_error(self, error: httpx.TransportError) -> None:
        """A dropped connection or a failed request: reestablish the connection (return)."""

    def reconnects(self) -> bool:
        """Whether to reestablish the connection after a response ended cleanly: always."""
        return True

    def retries_after(self, refusal: Refused) -> bool:
        """Whether to reconnect after failing the connection: never ("fail the connection"
        closes an ``EventSource`` for good)."""
        return False

    def connect(self, client: httpx.Client, url: str) -> None:
        """One request and its response, read to the end; :class:`Refused` to stop for good."""
        headers = {"Accept": EVENT_STREAM, "Cache-Control": "no-store"}
        resume = self.resume_header()
        if resume is not None:
            headers["Last-Event-ID"] = resume
        with client.stream("GET", url, headers=headers) as response:
            refusal = self.refusal(response)
            if refusal is not None:
                raise Refused(refusal, response.status_code)
            try:
                for chunk in self.reads(response):
                    self.dispatch(self.decoder.feed(chunk))
            finally:
                # "any pending data must be discarded": close() dispatches nothing more.
                self.dispatch(self.decoder.close())
                self.last_event_id = self.decoder.last_event_id

    def run(self, url: str) -> None:
        """Read *url* and report, from the client's name to the stream's end (or the
        connection's failure, when reconnecting)."""
        reconnect = parse_qs(urlsplit(url).query).get("reconnect") == ["1"]
        self.emitter.hello(self.label, observes=["retry", "reconnect"])
        with httpx.Client(timeout=None) as client:
            while True:
                ended = False
                try:
                    try:
                        self.connect(client, url)
                        ended = True
                    except httpx.TransportError as error:
                        if not reconnect:
                            raise
                        self.after_network_error(error)
                except Refused as refusal:
                    if not (reconnect and self.retries_after(refusal)):
                        self.emitter.failed(str(refusal))
                        return
                if not reconnect or (ended and not self.reconnects()):
                    break
                time.sleep(self.delay())
                self.decoder = self.new_decoder()
                carry_over = getattr(self.decoder, "carry_over", None)
                if carry_over is None:
                    raise SystemExit(f"{self.decoder!r} cannot carry the last event id over")
                carry_over(self.last_event_id)
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
    client = OracleClient(load_decoder(options.decoder))
    if options.decoder != DEFAULT_DECODER:
        client.label = options.decoder
    client.run(options.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
