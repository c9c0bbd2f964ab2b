"""Feed bytes to a decoder in every way the wire may cut them.

The conventions of the spec: a parser input is fed whole, one byte at a time,
and split at chosen points (inside a UTF-8 sequence, between CR and LF). A
decoder that answers differently to two splittings of the same bytes is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise

from spec.decoders import SseDecoder
from spec.sse import Dispatched


def cut(data: bytes, points: Sequence[int]) -> list[bytes]:
    """Cut *data* at *points* (positions, in any order, duplicates allowed)."""
    bounds = [0, *sorted({p for p in points if 0 < p < len(data)}), len(data)]
    return [data[start:end] for start, end in pairwise(bounds)]


def splittings(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """Name and chunks of each way to feed *data*: whole, byte by byte, every cut in two.

    Every two-piece cut is included for inputs up to 200 bytes; longer inputs
    get the whole and the bytewise feeds, and hypothesis draws the rest.
    """
    yield "whole", [data]
    yield "byte by byte", [data[i : i + 1] for i in range(len(data))]
    if len(data) <= 200:
        for point in range(1, len(data)):
            yield f"cut at byte {point}", cut(data, [point])


def decode(make_decoder: Callable[[], SseDecoder], chunks: Sequence[bytes]) -> list[Dispatched]:
    """Feed *chunks* to a new decoder, then end the stream; return all it dispatched."""
    decoder = make_decoder()
    out: list[Dispatched] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out
