"""The client chapter's cases say what the WHATWG algorithm says, whatever the cuts.

Each case's expected events (and retries) are written by hand, to be read; the
oracle decoder, itself held to the parsing chapter, must dispatch exactly them
from the case's body, fed whole and cut at every byte. A case that must fail
the connection does so for its status or Content-Type, never for its body.
"""

from __future__ import annotations

import pytest

from spec.chapters.sse_client import CASES
from spec.clients.cases import Case
from spec.feeding import decode, splittings
from spec.media import EVENT_STREAM, essence
from spec.sse import Decoder, MessageEvent, RetryChange


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_oracle_dispatches_what_the_case_expects(case: Case) -> None:
    for name, chunks in splittings(case.body):
        items = decode(Decoder, chunks)
        events = [item for item in items if isinstance(item, MessageEvent)]
        retries = [item.milliseconds for item in items if isinstance(item, RetryChange)]
        if case.fails:
            assert case.status != 200 or essence(case.content_type) != EVENT_STREAM
            continue
        assert events == list(case.expected), name
        if case.retries:
            assert retries == list(case.retries), name


RECONNECTING = [case for case in CASES if case.reconnects]


@pytest.mark.parametrize("case", RECONNECTING, ids=[case.name for case in RECONNECTING])
def test_a_reconnection_plan_is_what_the_oracle_decoder_makes_of_the_replies(case: Case) -> None:
    """Each planned request follows a reply a client must reconnect after, waits the
    reconnection time the replies set, and carries the last event ID string the oracle
    decoder holds after them (carried over from one response to the next)."""
    plan = case.reconnections or ()
    last_event_id, reconnection_ms = "", None
    for number in range(1, len(plan) + 2):
        reply = case.reply(number)
        if number <= len(plan):
            assert not reply.stops, f"reply {number} stops the client, yet more requests follow"
        else:
            assert reply.stops, f"the plan ends after reply {number}, which does not stop it"
            break
        decoder = Decoder()
        decoder.carry_over(last_event_id)
        for item in [*decoder.feed(reply.body), *decoder.close()]:
            if isinstance(item, RetryChange):
                reconnection_ms = item.milliseconds
        last_event_id = decoder.last_event_id
        request = plan[number - 1]
        assert request.after_ms == reconnection_ms
        assert request.last_event_id == (last_event_id or None)


def test_the_cases_have_unique_names() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)) >= 25
