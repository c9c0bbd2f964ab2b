"""The reference app's paced endpoints: bad input is a 400, go-aheads count, nothing is kept."""

from __future__ import annotations

import json

import anyio
import pytest

from impl import surface_hdr
from impl.app import create_app
from impl.pacing import Pacer
from spec.sse import Event
from spec.streams import fetch
from spec.surface_hdr import (
    PACED_NEXT_PATH,
    PACED_SSE_PATH,
    PACED_TEXT_PATH,
    new_pace_key,
    paced_sse_params,
)
from spec.targets import harness
from spec.targets.client import AsgiClient

GOOD_EVENTS = json.dumps([{"data": "x"}])


def sse_with_headers(raw: str) -> list[tuple[str, str]]:
    return [("events", GOOD_EVENTS), ("pace", "k"), ("headers", raw)]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (PACED_SSE_PATH, [("events", GOOD_EVENTS), ("pace", "")]),
        (PACED_SSE_PATH, [("events", GOOD_EVENTS), ("pace", "a/b")]),
        (PACED_SSE_PATH, [("events", GOOD_EVENTS), ("pace", "k" * 65)]),
        (PACED_SSE_PATH, [("events", "[1]"), ("pace", "k")]),
        (PACED_SSE_PATH, sse_with_headers("[]")),
        (PACED_SSE_PATH, sse_with_headers('{"Content-Length": "1"}')),
        (PACED_SSE_PATH, sse_with_headers('{"X-A": 1}')),
        (PACED_SSE_PATH, sse_with_headers('{"X-A": "\\u00e9"}')),
        (PACED_TEXT_PATH, [("chunks", '["a"]'), ("pace", "k"), ("headers", '{"X-A": "a\\r\\nb"}')]),
        (PACED_TEXT_PATH, [("chunks", "[1]"), ("pace", "k")]),
        (PACED_NEXT_PATH, [("pace", "")]),
    ],
)  # fmt: skip
async def test_malformed_input_is_refused_with_400(
    path: str, params: list[tuple[str, str]]
) -> None:
    fetched = await fetch(AsgiClient(create_app()), "GET", path, params=params)
    assert fetched.status == 400
    assert fetched.body.startswith(b"refused: ")


async def test_go_aheads_given_before_the_stream_count() -> None:
    client = AsgiClient(create_app())
    key = new_pace_key()
    for _ in range(2):
        assert (await fetch(client, "GET", PACED_NEXT_PATH, params=[("pace", key)])).status == 204
    events = [Event("a"), Event("b")]
    fetched = await fetch(client, "GET", PACED_SSE_PATH, params=paced_sse_params(events, key))
    assert fetched.body == b"data: a\n\ndata: b\n\n"
    assert key not in surface_hdr.pacer._paces, "the stream forgot its key when it ended"


async def test_an_abandoned_paced_stream_ends_and_forgets_its_key() -> None:
    key = new_pace_key()
    scope = harness.build_scope("GET", PACED_SSE_PATH, params=paced_sse_params([Event("a")], key))
    async with harness.exchange(create_app(), scope) as exchange:
        await exchange.wait_start()
        exchange.disconnect()
        with anyio.fail_after(5):
            await exchange.app_done.wait()
    assert exchange.app_error is None
    assert exchange.body == b""
    assert key not in surface_hdr.pacer._paces


async def test_the_registry_is_bounded() -> None:
    pacer = Pacer(capacity=8)
    for number in range(100):
        pacer.go(f"key-{number}")
    assert len(pacer) == 8
