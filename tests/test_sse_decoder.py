"""The oracle decoder beyond the spec's named examples: its interface and its edges.

The WHATWG rules themselves are checked by ``spec/chapters/sse_parsing.py``
against this decoder; these tests pin what the suite relies on besides them.
"""

from __future__ import annotations

import pytest

from spec.sse import Comment, Decoder, MessageEvent, RetryChange


def test_comments_are_reported_for_observers() -> None:
    """The algorithm ignores comments; the suite sees them (keep-alives are comments)."""
    assert Decoder().feed(b": ping\n:\n") == [Comment("ping"), Comment("")]


def test_retry_is_reported_and_remembered() -> None:
    decoder = Decoder()
    assert decoder.feed(b"retry: 300\n") == [RetryChange(300)]
    assert decoder.reconnection_time == 300


def test_bom_split_across_reads_is_stripped() -> None:
    decoder = Decoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: x\n\n") == [MessageEvent("message", "x", "")]


def test_truncated_utf8_at_end_of_stream_is_discarded_with_its_event() -> None:
    decoder = Decoder()
    assert decoder.feed(b"data: \xe4\xbd") == []
    assert decoder.close() == []


def test_close_is_idempotent_and_feed_after_close_is_an_error() -> None:
    decoder = Decoder()
    decoder.feed(b"data: a\n")
    assert decoder.close() == []
    assert decoder.close() == []
    with pytest.raises(RuntimeError):
        decoder.feed(b"\n")


def test_cr_at_end_of_read_then_non_lf() -> None:
    """A CR ending one read, then a read not starting with LF: the CR alone ended the line."""
    decoder = Decoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\r") == [MessageEvent("message", "a", "")]


def test_empty_reads_change_nothing() -> None:
    decoder = Decoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n\n") == [MessageEvent("message", "a", "")]


def test_long_stream_fed_in_one_read() -> None:
    stream = b"".join(b"id: %d\ndata: %d\n\n" % (i, i) for i in range(1000))
    events = Decoder().feed(stream)
    assert len(events) == 1000
    assert events[-1] == MessageEvent("message", "999", "999")
