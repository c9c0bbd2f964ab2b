"""An incremental NDJSON / JSON Lines decoder: the suite's oracle for records.

A record is the bytes up to and including an LF (0x0A). In UTF-8 the byte
0x0A is never part of a multi-byte sequence, so lines are cut on bytes and
each whole line is decoded on its own: a read that ends inside a UTF-8
sequence only leaves the line incomplete. Each line must be strict UTF-8 and
one RFC 8259 JSON text (surrounding whitespace allowed, as RFC 8259 section 2
allows it, so a CR before the LF is accepted as JSON Lines accepts ``\\r\\n``);
anything else is :class:`Malformed`, never skipped. Bytes left without their
LF when the stream ends are :class:`Truncated`: the NDJSON record was never
finished, which is how a client tells a cut stream from a complete one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JsonValue = Any
"""A value ``json.loads`` returns: dict, list, str, int, float, bool or None."""


@dataclass(frozen=True, slots=True)
class Record:
    """One complete record: the JSON value it holds and its bytes, LF included."""

    value: JsonValue
    raw: bytes


@dataclass(frozen=True, slots=True)
class Malformed:
    """A complete line that is not one JSON text in UTF-8; *reason* says why."""

    raw: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class Truncated:
    """Bytes at the end of the stream with no LF after them."""

    raw: bytes


Decoded = Record | Malformed | Truncated


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON (RFC 8259 section 6)")


def parse_line(raw: bytes) -> Record | Malformed:
    """Judge one complete line *raw* (its LF included) as a record."""
    try:
        text = raw[:-1].decode("utf-8", errors="strict")
    except UnicodeDecodeError as error:
        return Malformed(raw, f"not UTF-8: {error.reason} at byte {error.start}")
    if text.startswith("\ufeff"):
        return Malformed(raw, "a byte order mark (RFC 8259 section 8.1: MUST NOT add one)")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as error:
        return Malformed(raw, f"not one JSON text: {error}")
    return Record(value, raw)


class Decoder:
    """Turn NDJSON bytes into records, incrementally.

    ``feed`` returns, in stream order, each :class:`Record` or
    :class:`Malformed` line the fed bytes complete, as soon as its LF has been
    fed. ``close`` marks the end of the stream and returns ``[Truncated]`` when
    bytes without their LF are pending, else ``[]``. Feeding after ``close``
    is a programming error.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._closed = False

    def feed(self, data: bytes) -> list[Record | Malformed]:
        """Add *data*, cut anywhere; return the lines it completes."""
        if self._closed:
            raise RuntimeError("feed() after close()")
        self._pending += data
        out: list[Record | Malformed] = []
        start = 0
        while (end := self._pending.find(b"\n", start)) != -1:
            out.append(parse_line(bytes(self._pending[start : end + 1])))
            start = end + 1
        del self._pending[:start]
        return out

    def close(self) -> list[Truncated]:
        """End the stream; return the unfinished record, if any."""
        self._closed = True
        rest = bytes(self._pending)
        self._pending.clear()
        return [Truncated(rest)] if rest else []
