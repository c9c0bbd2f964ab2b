"""Properties of the SSE core: decoding what the encoder wrote gives back the source events.

For any events hypothesis draws (unicode, empty strings, NUL in data, lone CR,
mixed line ends, U+2028, comments, ids, retry), and however the bytes are
delivered: whole, one byte at a time, or cut at any points, including inside
a UTF-8 sequence and between CR and LF.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from spec import strategies
from spec.feeding import cut
from spec.sse import Decoder, Event, encode
from spec.sse.model import Observed, expected_observation


def decode_observed(chunks: list[bytes]) -> Observed:
    decoder = Decoder()
    items = [item for chunk in chunks for item in decoder.feed(chunk)]
    return Observed.of(items + decoder.close())


@given(events=st.lists(strategies.events(), max_size=8), cuts=st.lists(st.integers(0, 2000)))
@example(events=[Event("a\rb"), Event("\r")], cuts=[7])  # a CR at the end of a read
@example(events=[Event("a\r\nb")], cuts=[7])  # between CR and LF
@example(events=[Event("例")], cuts=[7, 8])  # inside a three-byte character
@example(events=[Event("a\u2028b\x85c")], cuts=[])  # not line ends: str.splitlines splits here
@example(events=[Event("", id="1"), Event("x", id="")], cuts=[])  # empty data; id reset
@example(events=[Event("x", comment="c\n\ndata: forged")], cuts=[])  # no field from a comment
def test_decode_encode_round_trip(events: list[Event], cuts: list[int]) -> None:
    stream = b"".join(encode(event) for event in events)
    expected = expected_observation(events)
    assert decode_observed([stream]) == expected
    assert decode_observed(cut(stream, cuts)) == expected


@given(events=st.lists(strategies.events(), min_size=1, max_size=4))
def test_round_trip_one_byte_at_a_time(events: list[Event]) -> None:
    stream = b"".join(encode(event) for event in events)
    chunks = [stream[i : i + 1] for i in range(len(stream))]
    assert decode_observed(chunks) == expected_observation(events)


@given(stream=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300)))
def test_any_cut_of_any_bytes_decodes_the_same(stream: bytes, cuts: list[int]) -> None:
    """The decoder's output depends on the bytes, never on how they were cut."""
    assert decode_observed(cut(stream, cuts)) == decode_observed([stream])


@given(st.lists(strategies.events(), max_size=5))
def test_model_data_has_only_lf_line_ends(events: list[Event]) -> None:
    """The model normalises CR and CRLF to LF, as the algorithm does."""
    for event in expected_observation(events).events:
        assert "\r" not in event.data
