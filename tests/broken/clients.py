"""SSE clients broken on purpose, each in one way a sans-IO decoder cannot show.

``python -m tests.broken.clients MODE URL``: the suite's own client
(:class:`spec.clients.oracle.OracleClient`) with one step done the way some
client library or some adapter does it. The broken decoders of
``tests/broken/decoders.py`` cover the parsing; these cover what happens
around it: the response's status and Content-Type, how the body is read, what
the client does between connections (in the reconnection cases, ``reconnect=1``),
and the adapter itself. Each class's docstring names the rule the client chapter
must fail it on; ``tests/test_client_chapter_fails.py`` shows that it does.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator, Sequence

import httpx

from spec.clients.oracle import OracleClient, Refused
from spec.media import EVENT_STREAM, essence
from spec.sse import Dispatched, MessageEvent


class IgnoresStatus(OracleClient):
    """SSE-CLIENT-13: parses the body of any status, so a 500's ``data: a`` is dispatched.

    (It still checks the Content-Type, so a 204 without one is still refused.)
    """

    label = "broken: ignores the status"

    def refusal(self, response: httpx.Response) -> str | None:
        content_type = response.headers.get("content-type")
        return None if essence(content_type) == EVENT_STREAM else f"Content-Type {content_type!r}"


class IgnoresContentType(OracleClient):
    """SSE-CLIENT-12: parses any 200 as an event stream, ``text/plain`` or no type at all."""

    label = "broken: ignores the Content-Type"

    def refusal(self, response: httpx.Response) -> str | None:
        return None if response.status_code == 200 else f"status {response.status_code}"


class ComparesContentTypeAsWritten(OracleClient):
    """SSE-CLIENT-12: ``content_type.startswith("text/event-stream")``, case and all.

    ``Text/Event-Stream;charset=UTF-8`` is refused, though its essence is
    ``text/event-stream``.
    """

    label = "broken: compares the Content-Type as written"

    def refusal(self, response: httpx.Response) -> str | None:
        content_type = response.headers.get("content-type") or ""
        if not content_type.startswith(EVENT_STREAM):
            return f"Content-Type {content_type!r}"
        return super().refusal(response)


class EndsQuietlyOnNoContent(OracleClient):
    """SSE-CLIENT-13: takes 204 No Content for the stream's normal end, not a failed connection.

    A 204 does stop an ``EventSource`` for good, but by failing the
    connection; a client that reports it as closed hides that from its user.
    """

    label = "broken: ends quietly on 204"

    def refusal(self, response: httpx.Response) -> str | None:
        return None if response.status_code == 204 else super().refusal(response)


class ReadsWholeBody(OracleClient):
    """SSE-CLIENT-04: reads the body to its end before parsing, so nothing comes during a pause.

    Every event comes out right, at the end: only the holds show it (the server
    waits its window out and sends on).
    """

    label = "broken: reads the whole body first"

    def reads(self, response: httpx.Response) -> Iterator[bytes]:
        yield response.read()


class DecodesByCharset(OracleClient):
    """SSE-CLIENT-01: decodes with the Content-Type's charset (httpx ``iter_text()``).

    Without a charset httpx decodes UTF-8, incrementally and with U+FFFD, so
    only ``charset=iso-8859-1`` shows it: ``café`` becomes ``cafÃ©``. The
    decoder takes bytes, so the text is handed to it re-encoded as UTF-8: what
    a text-based parser would see.
    """

    label = "broken: decodes by the charset"

    def reads(self, response: httpx.Response) -> Iterator[bytes]:
        for text in response.iter_text():
            yield text.encode("utf-8")


class DecodesEachRead(OracleClient):
    """SSE-CLIENT-01: decodes each read on its own, so a character split between reads is lost.

    ``é`` cut after its first byte becomes two U+FFFD; whole characters are
    decoded right, so only the split case shows it.
    """

    label = "broken: decodes each read on its own"

    def reads(self, response: httpx.Response) -> Iterator[bytes]:
        for chunk in response.iter_raw():
            yield chunk.decode("utf-8", "replace").encode("utf-8")


class PrintsALogLine(OracleClient):
    """Any rule: a debugging ``print`` left in the adapter, a line the protocol does not know.

    The client parses correctly; the run must still not pass, since a line
    that is not the protocol's could have been an event.
    """

    label = "broken: prints a log line"

    def run(self, url: str) -> None:
        print(f"connecting to {url}", flush=True)
        super().run(url)


class HangsAfterFirstEvent(OracleClient):
    """Any rule: stops reading after its first event and never exits.

    The runner's guard (``STREAMSPEC_CLIENT_GUARD``) stops it, and the check
    fails, saying that the client hung.
    """

    label = "broken: hangs after its first event"

    def dispatch(self, items: Sequence[Dispatched]) -> None:
        super().dispatch(items)
        if any(isinstance(item, MessageEvent) for item in items):
            threading.Event().wait()


class ReconnectsAtOnce(OracleClient):
    """SSE-CLIENT-14: reconnects as soon as a response ends, whatever ``retry`` said.

    A hand-written loop around a one-shot client (``while True: connect()``)
    does this; the server sees each request within milliseconds of the end.
    """

    label = "broken: reconnects at once"

    def delay(self) -> float:
        return 0.0


class EndsWithTheResponse(OracleClient):
    """SSE-CLIENT-14: takes a response's end for the stream's, and does not reconnect.

    It reconnects only after errors (a dropped connection), as
    ``@microsoft/fetch-event-source`` does, whose promise resolves when a
    response ends cleanly.
    """

    label = "broken: ends with the response"

    def reconnects(self) -> bool:
        return False


class KeepsTheFirstLastEventId(OracleClient):
    """SSE-CLIENT-15: sets ``Last-Event-ID`` once, on the first reconnection, and keeps it.

    The id is right the first time; after later events with newer ids the
    client still resumes from the first (a header dictionary built once).
    """

    label = "broken: keeps the first Last-Event-ID"

    def __init__(self) -> None:
        super().__init__()
        self.first_sent: str | None = None

    def resume_header(self) -> str | None:
        if self.first_sent is None:
            self.first_sent = super().resume_header()
        return self.first_sent


class RetriesAfterNoContent(OracleClient):
    """SSE-CLIENT-16: reports a 204 as a failure, then reconnects anyway.

    It tells its user the connection failed (SSE-CLIENT-13 holds), and goes on
    retrying on its timer, as a retry loop that catches every error does:
    the server's 204, its way of saying "stop", is never heard.
    """

    label = "broken: retries after 204"

    def retries_after(self, refusal: Refused) -> bool:
        return refusal.status == 204


class RetriesAfterEveryFailure(OracleClient):
    """SSE-CLIENT-16: reports every refused response, and retries after each.

    A 500 or a ``text/plain`` answer is reported, then asked again on the
    client's timer, forever: what ``@microsoft/fetch-event-source`` does by
    default, whose ``onerror`` decides, and by default retries.
    """

    label = "broken: retries after every failure"

    def retries_after(self, refusal: Refused) -> bool:
        return True


class GivesUpOnNetworkError(OracleClient):
    """SSE-CLIENT-17: takes a dropped connection for a failure, and does not reconnect.

    It reconnects after a response that ends cleanly, but an error raised
    while reading the body (an incomplete chunked body) ends it for good.
    """

    label = "broken: gives up on a network error"

    def after_network_error(self, error: httpx.TransportError) -> None:
        raise Refused(f"network error: {error}", 200)


MODES: dict[str, type[OracleClient]] = {
    "ignores-status": IgnoresStatus,
    "ignores-content-type": IgnoresContentType,
    "compares-content-type-as-written": ComparesContentTypeAsWritten,
    "ends-quietly-on-no-content": EndsQuietlyOnNoContent,
    "reads-whole-body": ReadsWholeBody,
    "decodes-by-charset": DecodesByCharset,
    "decodes-each-read": DecodesEachRead,
    "prints-a-log-line": PrintsALogLine,
    "hangs-after-first-event": HangsAfterFirstEvent,
    "reconnects-at-once": ReconnectsAtOnce,
    "ends-with-the-response": EndsWithTheResponse,
    "keeps-the-first-last-event-id": KeepsTheFirstLastEventId,
    "retries-after-no-content": RetriesAfterNoContent,
    "retries-after-every-failure": RetriesAfterEveryFailure,
    "gives-up-on-network-error": GivesUpOnNetworkError,
}


def command(mode: str) -> str:
    """The ``--client-command`` that runs *mode*."""
    if mode not in MODES:
        raise ValueError(f"no broken client {mode!r}")
    return f"{{python}} -m tests.broken.clients {mode} {{url}}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.broken.clients", description=__doc__)
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("url")
    options = parser.parse_args(argv)
    MODES[options.mode]().run(options.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
