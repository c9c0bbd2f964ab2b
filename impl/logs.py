"""Text log streams: one line a chunk, each ending in a real line feed, sent as it is made.

``LogStreamResponse`` is what ``GET /logs/stream`` and the conformance
endpoint ``GET /conformance/log`` (served by the kit with the factory of
:mod:`impl.surface`) both answer with, so the suite checks the code the real
route runs. The source document's log stream lost its newlines
in publication (``"...n"``): here the line feed is added in one place, and a
line that holds CR or LF of its own is refused (it would forge a line).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping

from impl.streaming import ShutdownSignal, StreamResponse, transformed

LOG_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def log_line(text: str) -> bytes:
    """The bytes of one log line: *text* as UTF-8, then LF; ValueError if *text* holds CR or LF."""
    if "\r" in text or "\n" in text:
        raise ValueError("a log line must not contain CR or LF")
    return text.encode() + b"\n"


class LogStreamResponse(StreamResponse):
    """A ``text/plain; charset=utf-8`` stream of log lines, one body message per line.

    It stops when its client leaves or the server shuts down, as every
    :class:`~impl.streaming.StreamResponse` does.
    """

    def __init__(
        self,
        texts: AsyncIterable[str],
        *,
        headers: Mapping[str, str] | None = None,
        shutdown: ShutdownSignal | None = None,
        send_timeout: float | None = None,
    ) -> None:
        super().__init__(
            transformed(texts, log_line),
            media_type="text/plain; charset=utf-8",
            headers={**LOG_HEADERS, **(headers or {})},
            shutdown=shutdown,
            send_timeout=send_timeout,
        )
