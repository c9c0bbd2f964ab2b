"""Encode :class:`~spec.sse.event.Event` values as ``text/event-stream`` bytes.

The contract (the rules ``SSE-ENC-*`` of the spec):

* every event ends with a blank line, so the client dispatches it on arrival;
* a value is split into lines at CR, LF and CRLF and nowhere else (not at
  U+2028, U+2029, U+0085, VT, FF or FS/GS/RS, where ``str.splitlines`` would
  split), each line its own ``data:`` or ``:`` line;
* empty data still writes a ``data:`` line, so the event is dispatched;
* a value that cannot be carried is refused with :class:`ValueError` naming
  the field, never altered: an ``event`` or ``id`` with CR or LF, an ``id``
  with NUL (a client ignores such an id, which would break resuming), a
  ``retry`` that is not a non-negative ``int``.
"""

from __future__ import annotations

import re

from spec.sse.event import Event

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Split *text* at CRLF, CR and LF only, the line ends of the event stream grammar."""
    return _LINE_BREAK.split(text)


def validate(event: Event) -> None:
    """Raise :class:`ValueError` naming the first field of *event* that cannot be encoded."""
    if not isinstance(event.data, str):
        raise TypeError(f"data must be str, not {type(event.data).__name__}")
    if event.event is not None and _LINE_BREAK.search(event.event):
        raise ValueError(f"event must not contain CR or LF: {event.event!r}")
    if event.id is not None:
        if _LINE_BREAK.search(event.id):
            raise ValueError(f"id must not contain CR or LF: {event.id!r}")
        if "\0" in event.id:
            raise ValueError(f"id must not contain NUL: {event.id!r}")
    if event.retry is not None and (
        isinstance(event.retry, bool) or not isinstance(event.retry, int) or event.retry < 0
    ):
        raise ValueError(f"retry must be a non-negative int, not {event.retry!r}")


def encode(event: Event) -> bytes:
    """Return *event* as UTF-8 bytes ending with the blank line that dispatches it.

    Raises:
        ValueError: a field cannot be carried unaltered (see the module docstring).
    """
    data = event.data
    if (
        event.event is None
        and event.id is None
        and event.retry is None
        and event.comment is None
        and type(data) is str
        and "\n" not in data
        and "\r" not in data
    ):
        # The most common event, one line of data and nothing else: the general path's
        # bytes, made without its list and joins (an SSE stream's hottest line).
        return b"data: " + data.encode("utf-8") + b"\n\n"
    validate(event)
    lines: list[str] = []
    if event.comment is not None:
        lines.extend(": " + line for line in split_lines(event.comment))
    if event.id is not None:
        lines.append("id: " + event.id)
    if event.event is not None:
        lines.append("event: " + event.event)
    if event.retry is not None:
        lines.append(f"retry: {event.retry:d}")
    lines.extend("data: " + line for line in split_lines(event.data))
    lines.append("\n")
    return "\n".join(lines).encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """Return a comment block, each line of *text* a ``:`` line; clients ignore it.

    Used as a keep-alive: it moves bytes through idle proxies and dispatches nothing.
    """
    return ("".join(": " + line + "\n" for line in split_lines(text)) + "\n").encode("utf-8")
