"""``StreamResponse(checkpoint_every=N)``: a producer that never awaits is stopped within N items.

The stream yields to the event loop once every N items (16 by default, the
bound of ``CANCEL-PROMPT-01``), so a disconnect is noticed within N items
even when neither the producer nor ``send`` ever suspends; the SSE
response's fast path writes the bytes the general encoder writes; and the
shutdown notice calls a stream back instead of keeping a task waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from impl.lifecycle import ShutdownNotice
from impl.sse import EventStreamResponse
from impl.streaming import CHECKPOINT_EVERY, StreamResponse
from spec.chapters import cancel
from spec.patience import guarded
from spec.sse import Event, encode
from spec.targets import harness


class Counting:
    """A producer that never awaits and counts the items it was asked for."""

    def __init__(self) -> None:
        self.made = 0

    async def items(self) -> AsyncIterator[bytes]:
        while True:
            self.made += 1
            yield b"%d\n" % self.made


@pytest.mark.parametrize("every", sorted({1, 2, CHECKPOINT_EVERY, 64}))
async def test_disconnect_stops_a_busy_producer_within_checkpoint_every(every: int) -> None:
    producer = Counting()
    response = StreamResponse(producer.items(), checkpoint_every=every)
    scope = harness.build_scope("GET", "/")
    async with harness.exchange(response, scope, disconnect_after=5) as exchange:
        with guarded("the end of the response after http.disconnect", 10):
            await exchange.app_done.wait()
    # Body messages: the empty one that sends the head, then one per item.
    items_at_disconnect = (exchange.body_messages_at_disconnect or 0) - 1
    assert 0 <= producer.made - items_at_disconnect <= every


def test_the_default_keeps_the_rules_bound() -> None:
    """The checkpoint interval is at most the items ``CANCEL-PROMPT-01`` allows after a
    disconnect (a disconnect delivered while the stream is at a checkpoint can be followed by
    a whole interval of items)."""
    assert CHECKPOINT_EVERY <= cancel.PROMPT_ITEMS


def test_checkpoint_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="checkpoint_every"):
        StreamResponse(iter([b""]), checkpoint_every=0)


async def test_sse_response_writes_the_encoders_bytes() -> None:
    events = [Event("plain"), Event("two\nlines"), Event("typed", event="t", id="1"), Event("")]

    async def producer() -> AsyncIterator[Event]:
        for event in events:
            yield event

    scope = harness.build_scope("GET", "/")
    async with harness.exchange(EventStreamResponse(producer()), scope) as exchange:
        with guarded("the end of the response", 10):
            await exchange.app_done.wait()
    bodies = [message["body"] for message in exchange.body_messages if message["body"]]
    assert bodies == [encode(event) for event in events]


def test_shutdown_notice_calls_back_once_set_and_not_after_unsubscribing() -> None:
    notice = ShutdownNotice()
    called: list[str] = []
    unsubscribe = notice.subscribe(lambda: called.append("first"))
    stopped = notice.subscribe(lambda: called.append("gone"))
    stopped()
    notice.trigger()
    assert called == ["first"]
    notice.subscribe(lambda: called.append("late"))  # set already: called at once
    assert called == ["first", "late"]
    unsubscribe()
