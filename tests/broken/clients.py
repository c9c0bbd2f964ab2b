"""SSE clients broken on purpose, each in one way a sans-IO decoder cannot show.

``python -m tests.broken.clients MODE URL``: the suite's own client
(:mod:`spec.clients.oracle`: httpx, the oracle decoder, the adapter protocol)
with one step done the way some client library or some adapter does it. The
broken decoders of ``tests/broken/decoders.py`` cover the parsing; these
cover what happens around it: the response's status and Content-Type, how
the body is read, and the adapter itself. Each mode's docstring names the
rule the client chapter must fail it on; ``tests/test_client_chapter_fails.py``
shows that it does.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterator, Sequence

import httpx

from spec.clients.oracle import EVENT_STREAM, essence
from spec.clients.protocol import Emitter
from spec.sse import Decoder, Dispatched, MessageEvent, RetryChange

Body = Callable[[httpx.Response], Iterator[bytes]]
"""How a client reads the body: the bytes it hands its decoder, read by read."""


def as_it_arrives(response: httpx.Response) -> Iterator[bytes]:
    """Each read as it arrives, as the oracle does."""
    yield from response.iter_raw()


def whole_body(response: httpx.Response) -> Iterator[bytes]:
    """The whole body at once, when the response has ended (``response.read()``)."""
    yield response.read()


def text_by_charset(response: httpx.Response) -> Iterator[bytes]:
    """``response.iter_text()``: decoded with the Content-Type's charset, then parsed as text.

    The oracle decoder takes bytes, so the text is handed to it re-encoded as
    UTF-8: what a text-based parser would see.
    """
    for text in response.iter_text():
        yield text.encode("utf-8")


def each_read_decoded(response: httpx.Response) -> Iterator[bytes]:
    """Each read decoded on its own (``chunk.decode("utf-8", "replace")``), then parsed as text."""
    for chunk in response.iter_raw():
        yield chunk.decode("utf-8", "replace").encode("utf-8")


def oracle_type_check(content_type: str | None) -> bool:
    """The essence of the Content-Type is ``text/event-stream``, as the oracle checks."""
    return essence(content_type) == EVENT_STREAM


def stream(
    url: str,
    *,
    label: str,
    checks_status: bool = True,
    is_event_stream: Callable[[str | None], bool] = oracle_type_check,
    ends_on_no_content: bool = False,
    body: Body = as_it_arrives,
    after_first_event: Callable[[], None] = lambda: None,
) -> int:
    """The oracle client's run, with the steps a mode leaves out or does differently."""
    emitter = Emitter()
    emitter.hello(f"broken: {label}", observes=["retry"])
    decoder = Decoder()
    dispatched = 0

    def emit(items: Sequence[Dispatched]) -> None:
        nonlocal dispatched
        for item in items:
            if isinstance(item, MessageEvent):
                emitter.event(item.type, item.data, item.last_event_id)
                dispatched += 1
                if dispatched == 1:
                    after_first_event()
            elif isinstance(item, RetryChange):
                emitter.retry(item.milliseconds)

    headers = {"Accept": EVENT_STREAM, "Cache-Control": "no-store"}
    with (
        httpx.Client(timeout=None) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        if ends_on_no_content and response.status_code == 204:
            emitter.end("no content")
            return 0
        if checks_status and response.status_code != 200:
            emitter.failed(f"status {response.status_code}")
            return 0
        content_type = response.headers.get("content-type")
        if not is_event_stream(content_type):
            emitter.failed(f"Content-Type {content_type!r}")
            return 0
        for chunk in body(response):
            emit(decoder.feed(chunk))
        emit(decoder.close())
    emitter.end()
    return 0


def ignores_status(url: str) -> int:
    """SSE-CLIENT-13: parses the body of any status, so a 500's ``data: a`` is dispatched.

    (It still checks the Content-Type, so a 204 without one is still refused.)
    """
    return stream(url, label="ignores the status", checks_status=False)


def ignores_content_type(url: str) -> int:
    """SSE-CLIENT-12: parses any 200 as an event stream, ``text/plain`` or no type at all."""
    return stream(url, label="ignores the Content-Type", is_event_stream=lambda _: True)


def compares_content_type_as_written(url: str) -> int:
    """SSE-CLIENT-12: ``content_type.startswith("text/event-stream")``, case and all.

    ``Text/Event-Stream;charset=UTF-8`` is refused, though its essence is
    ``text/event-stream``.
    """

    def as_written(content_type: str | None) -> bool:
        return (content_type or "").startswith(EVENT_STREAM)

    return stream(url, label="compares the Content-Type as written", is_event_stream=as_written)


def ends_quietly_on_no_content(url: str) -> int:
    """SSE-CLIENT-13: takes 204 No Content for the stream's normal end, not a failed connection.

    A 204 does stop an ``EventSource`` for good, but by failing the
    connection; a client that reports it as closed hides that from its user.
    """
    return stream(url, label="ends quietly on 204", ends_on_no_content=True)


def reads_whole_body(url: str) -> int:
    """SSE-CLIENT-04: reads the body to its end before parsing, so nothing comes during a pause.

    Every event comes out right, at the end: only the holds show it (the server
    waits its window out and sends on).
    """
    return stream(url, label="reads the whole body first", body=whole_body)


def decodes_by_charset(url: str) -> int:
    """SSE-CLIENT-01: decodes with the Content-Type's charset (httpx ``iter_text()``).

    Without a charset httpx decodes UTF-8, incrementally and with U+FFFD, so
    only ``charset=iso-8859-1`` shows it: ``café`` becomes ``cafÃ©``.
    """
    return stream(url, label="decodes by the charset", body=text_by_charset)


def decodes_each_read(url: str) -> int:
    """SSE-CLIENT-01: decodes each read on its own, so a character split between reads is lost.

    ``é`` cut after its first byte becomes two U+FFFD; whole characters are
    decoded right, so only the split case shows it.
    """
    return stream(url, label="decodes each read on its own", body=each_read_decoded)


def prints_a_log_line(url: str) -> int:
    """Any rule: a debugging ``print`` left in the adapter, a line the protocol does not know.

    The client parses correctly; the run must still not pass, since a line
    that is not the protocol's could have been an event.
    """
    print(f"connecting to {url}", flush=True)
    return stream(url, label="prints a log line")


def hangs_after_first_event(url: str) -> int:
    """Any rule: stops reading after its first event and never exits.

    The runner's guard (``STREAMSPEC_CLIENT_GUARD``) stops it, and the check
    fails, saying that the client hung.
    """

    def hang() -> None:
        threading.Event().wait()

    return stream(url, label="hangs after its first event", after_first_event=hang)


MODES: dict[str, Callable[[str], int]] = {
    "ignores-status": ignores_status,
    "ignores-content-type": ignores_content_type,
    "compares-content-type-as-written": compares_content_type_as_written,
    "ends-quietly-on-no-content": ends_quietly_on_no_content,
    "reads-whole-body": reads_whole_body,
    "decodes-by-charset": decodes_by_charset,
    "decodes-each-read": decodes_each_read,
    "prints-a-log-line": prints_a_log_line,
    "hangs-after-first-event": hangs_after_first_event,
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
    return MODES[options.mode](options.url)


if __name__ == "__main__":
    raise SystemExit(main())
