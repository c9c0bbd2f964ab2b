"""Range requests (RFC 9110 section 14): what a ``Range`` header asks of a representation.

Pure: a header value and a length in, a decision out. Written by hand because
Starlette's ``FileResponse._parse_range_header`` answers 400 to a malformed or
inverted range (RFC 9110 section 14.2 says to ignore such a header and send the
whole representation), treats a zero-length suffix as satisfiable input it then
refuses, and is private API; no maintained library parses ``Range`` alone.

Policy, within what the RFC allows:

* a header that does not match the grammar of section 14.1.1, uses a unit other
  than ``bytes``, holds an inverted ``int-range`` (last before first) or more
  than :data:`MAX_RANGES` range-specs is ignored: the whole representation, 200;
* range-specs that cannot be satisfied are dropped; if none is left, 416;
* overlapping and adjacent ranges are coalesced and sorted (section 14.3 allows
  it), so that a multipart response never sends a byte twice;
* an empty representation has no byte to select: an ``int-range`` on it is
  unsatisfiable (416), a suffix range selects nothing and the header is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_RANGES = 32
"""More range-specs than this in one header and the header is ignored (a full 200)."""

_SPEC = re.compile(r"(?:([0-9]+)-([0-9]*)|-([0-9]+))")
_OWS = " \t"


@dataclass(frozen=True)
class Ranges:
    """Serve these byte ranges, each ``(first, last)`` inclusive, sorted and disjoint."""

    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Unsatisfiable:
    """No requested range overlaps the representation: 416 with ``bytes */LENGTH``."""


@dataclass(frozen=True)
class Ignore:
    """Serve the whole representation, as if no ``Range`` had been sent."""


Decision = Ranges | Unsatisfiable | Ignore


_BEYOND = 10**19
"""Stands for any number of more than 19 digits: larger than every length served."""


def _number(digits: str) -> int:
    """The value of *digits*, or ``_BEYOND`` when it has more than 19 significant digits (which
    compares the same against any length, without int()'s 4,300-digit limit)."""
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= 19 else _BEYOND


def parse_range(header: str, length: int) -> Decision:
    """Decide what ``Range: header`` selects of a representation of *length* bytes."""
    unit, equals, range_set = header.partition("=")
    if not equals or unit.lower() != "bytes":
        return Ignore()
    elements = [element.strip(_OWS) for element in range_set.split(",")]
    specs = [element for element in elements if element]
    if not specs or len(specs) > MAX_RANGES:
        return Ignore()
    spans: list[tuple[int, int]] = []
    for spec in specs:
        match = _SPEC.fullmatch(spec)
        if match is None:
            return Ignore()
        first, last, suffix = match.groups()
        if suffix is not None:
            size = _number(suffix)
            if size > 0 and length > 0:
                spans.append((max(length - size, 0), length - 1))
            elif size > 0:
                return Ignore()
            continue
        start = _number(first)
        end = length - 1 if not last else _number(last)
        if last and end < start:
            return Ignore()
        if start < length:
            spans.append((start, min(end, length - 1)))
    if not spans:
        return Unsatisfiable()
    return Ranges(_coalesce(spans))


def _coalesce(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)
