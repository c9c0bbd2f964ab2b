"""Properties of the NDJSON core: decoding what the encoder wrote gives back the source records.

For any JSON values hypothesis draws (strings holding LF, CR, U+2028, NUL,
emoji; nesting; finite numbers), however the bytes are delivered: whole, one
byte at a time, or cut at any points, inside a UTF-8 sequence included. And
the decoder refuses what is not a record instead of skipping it.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from spec import strategies
from spec.feeding import cut
from spec.ndjson import Decoder, Malformed, Record, Truncated, encode


def decode_all(chunks: list[bytes]) -> list[Record | Malformed | Truncated]:
    decoder = Decoder()
    out: list[Record | Malformed | Truncated] = [
        item for chunk in chunks for item in decoder.feed(chunk)
    ]
    return [*out, *decoder.close()]


@given(values=st.lists(strategies.json_values(), max_size=8), cuts=st.lists(st.integers(0, 2000)))
@example(values=["a\nb"], cuts=[2, 3, 4])  # a raw LF would split the record
@example(values=["例"], cuts=[2, 3])  # inside a three-byte character
@example(values=["🎉", {"k": "\u2028"}], cuts=[1, 2, 3])  # a four-byte one; U+2028 is not LF
def test_decode_encode_round_trip(values: list[object], cuts: list[int]) -> None:
    stream = b"".join(encode(value) for value in values)
    for chunks in ([stream], cut(stream, cuts), [stream[i : i + 1] for i in range(len(stream))]):
        decoded = decode_all(chunks)
        assert all(isinstance(item, Record) for item in decoded)
        assert [item.value for item in decoded if isinstance(item, Record)] == values


@given(value=strategies.json_values())
def test_a_record_is_one_line_ending_in_lf(value: object) -> None:
    record = encode(value)
    assert record.endswith(b"\n")
    assert record.count(b"\n") == 1
    record.decode("utf-8", errors="strict")


def test_a_record_is_dispatched_when_its_lf_arrives() -> None:
    decoder = Decoder()
    assert decoder.feed(b'{"a":') == []
    assert decoder.feed(b"1}") == []
    assert decoder.feed(b"\n[") == [Record({"a": 1}, b'{"a":1}\n')]
    assert decoder.close() == [Truncated(b"[")]


def test_a_complete_stream_leaves_nothing_pending() -> None:
    decoder = Decoder()
    decoder.feed(b"1\n2\r\n")
    assert decoder.close() == []


def test_what_is_not_a_record_is_malformed_not_skipped() -> None:
    bad = [
        b'"a\nb"\n',  # a raw LF inside a string: two broken lines
        b"\xff\n",  # not UTF-8
        b"\xef\xbb\xbf1\n",  # a BOM
        b"NaN\n",  # not JSON
        b"1 2\n",  # two texts on one line
        b"\n",  # an empty line
    ]
    for line in bad:
        items = Decoder().feed(line)
        assert items, line
        assert any(isinstance(item, Malformed) for item in items), (line, items)


def test_feed_after_close_is_refused() -> None:
    decoder = Decoder()
    decoder.close()
    try:
        decoder.feed(b"1\n")
    except RuntimeError:
        return
    raise AssertionError("feed() after close() was accepted")
