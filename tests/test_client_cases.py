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


def test_the_cases_have_unique_names() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)) >= 25
