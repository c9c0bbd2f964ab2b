"""``POST /conformance/chat`` (:mod:`spec.kit.chat`) and the demo's ``POST /chat`` on the reference.

Bad bodies get a 4xx before the model starts, never a 5xx: not JSON, not UTF-8,
nested 1,000 deep, a lone surrogate, an unknown member, a member of the wrong
type or out of range, a body past the cap (413, ``Connection: close``); any
body hypothesis draws, JSON or bytes, gets an answer below 500. The capability
follows the factory. The streams themselves are the chapter's
(``spec/chapters/chat.py``, ``tests/test_chat_fails.py``).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impl.app import create_app
from impl.settings import Settings
from spec import strategies
from spec.chat import read_openai
from spec.kit import Kit
from spec.kit.chat import MAX_BODY
from spec.sse import Decoder, MessageEvent
from spec.streams import Fetched, fetch
from spec.surface import CHAT_PATH
from spec.targets.client import AsgiClient
from tests.broken.chat_apps import done_twice

APP = create_app(Settings(chat_thinking=0, chat_interval=0))
JSON = [("content-type", "application/json")]


async def post(body: bytes, path: str = CHAT_PATH, app: Any = APP) -> Fetched:
    return await fetch(AsgiClient(app), "POST", path, headers=JSON, body=body)


def events(fetched: Fetched) -> list[MessageEvent]:
    decoder = Decoder()
    return [item for item in decoder.feed(fetched.body) if isinstance(item, MessageEvent)]


async def test_the_reference_streams_the_tokens_asked_for() -> None:
    fetched = await post(json.dumps({"tokens": ["a", "b\n"], "repeat": 2}).encode())
    assert fetched.status == 200
    assert (fetched.header("content-type") or "").startswith("text/event-stream")
    reading = read_openai(events(fetched))
    assert (reading.text, reading.terminators) == ("ab\nab\n", ["[DONE]"])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"tokens"',
        b"\xff\xfe{}",
        b"[" * 1000,
        b'{"tokens": ["\\ud800"]}',
        b'{"tokens": [1]}',
        b'{"tokens": "abc"}',
        b'{"tokens": [], "style": "anthropic"}',
        b'{"tokens": [], "delay_ms": -1}',
        b'{"tokens": [], "delay_ms": 1.5}',
        b'{"tokens": [], "delay_ms": true}',
        b'{"tokens": [], "delay_ms": 1e400}',
        b'{"tokens": [], "delay_ms": NaN}',
        b'{"tokens": [], "fail_after": "1"}',
        b'{"tokens": [], "repeat": 100001}',
        b'{"tokens": [], "keepalive": 0.01}',
        b'{"tokens": [], "keepalive": Infinity}',
        b'{"tokens": [], "keepalive": "1"}',
        b'{"tokens": [], "id": ""}',
        b'{"tokens": [], "id": 7}',
        b'{"tokens": [], "prompt": "x"}',
        b'{"tokens": [], "delay_ms": ' + b"9" * 5000 + b"}",
        json.dumps({"tokens": ["x"] * 10_001}).encode(),
    ],
)
async def test_a_bad_body_is_refused_with_400(body: bytes) -> None:
    fetched = await post(body)
    assert fetched.status == 400, (body[:40], fetched.body)
    assert fetched.body.startswith(b"refused: "), fetched.body


async def test_a_body_past_the_cap_gets_413_and_a_closed_connection() -> None:
    fetched = await post(b'{"tokens": ["' + b"x" * MAX_BODY + b'"]}')
    assert fetched.status == 413
    assert fetched.header("connection") == "close"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(
        st.binary(max_size=200),
        strategies.json_values().map(lambda value: json.dumps(value).encode()),
        st.fixed_dictionaries(
            {},
            optional={
                "tokens": st.lists(st.text(max_size=5), max_size=5),
                "style": st.sampled_from(["openai", "typed", "other"]),
                "delay_ms": st.integers(-5, 5),
                "fail_after": st.one_of(st.none(), st.integers(-1, 6)),
                "keepalive": st.sampled_from([0, 0.05, 1, -1, 1e-300]),
                "repeat": st.integers(-1, 3),
                "id": st.text(max_size=3),
            },
        ).map(lambda members: json.dumps(members).encode()),
    )
)
def test_no_body_gets_a_5xx(body: bytes) -> None:
    """Whatever the body, the answer is below 500 (a 200 stream, a failing one included, or
    a 4xx refusal)."""
    fetched = anyio.run(post, body)
    assert fetched.status < 500, (body[:60], fetched.status, fetched.body[:200])


@pytest.mark.parametrize(
    ("params", "status"),
    [([("gate", "no spaces")], 400), ([("gate", "g"), ("gate_first", "maybe")], 400)],
)
async def test_a_bad_gate_is_refused(params: list[tuple[str, str]], status: int) -> None:
    fetched = await fetch(
        AsgiClient(APP), "POST", CHAT_PATH, params=params, headers=JSON, body=b'{"tokens": ["a"]}'
    )
    assert fetched.status == status, fetched.body


async def test_the_capability_follows_the_factory() -> None:
    assert done_twice.capabilities["chat"] is True
    assert Kit().capabilities["chat"] is False
    assert (await post(b'{"tokens": []}', app=Kit())).status == 404


@pytest.mark.parametrize(
    "body",
    [b"", b"[" * 1000, b'{"prompt": "\\ud800"}', b'{"prompt": 1}', b'{"style": "x"}'],
)
async def test_the_demo_refuses_a_bad_body_with_400(body: bytes) -> None:
    assert (await post(body, "/chat")).status == 400


async def test_the_demo_answers_a_prompt_in_both_styles() -> None:
    for style, end in (("openai", "[DONE]"), ("typed", "response.completed")):
        fetched = await post(json.dumps({"prompt": "hi", "style": style}).encode(), "/chat")
        assert fetched.status == 200
        last = events(fetched)[-1]
        assert (last.data if style == "openai" else last.type) == end
