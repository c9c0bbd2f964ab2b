"""Hostile input found by fuzzing the reference: each gets a defined answer, never a 5xx.

Each test names the reproduction it guards against. The app runs in-process (ASGI).
"""

from __future__ import annotations

import pytest

from impl.app import create_app
from impl.settings import Settings
from spec.streams import fetch
from spec.surface import FEED_PATH, FILES_PATH, LOG_PATH, SSE_PATH, TEXT_PATH
from spec.targets.client import AsgiClient

FAST = Settings(log_interval=0, event_interval=0, log_lines=5, event_count=3)


@pytest.mark.parametrize(
    "raw", ["inf", "1e309", "nan", "-inf", "1e-300", "0.01", "3601", "-1", "x"]
)
async def test_keepalive_outside_its_range_is_refused_with_400(raw: str) -> None:
    """Regression: ``keepalive=inf``/``1e309``/``nan`` got a 500, ``1e-300`` flooded comments."""
    params = [("events", "[]"), ("keepalive", raw)]
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", SSE_PATH, params=params)
    assert fetched.status == 400, raw
    assert fetched.body.startswith(b"refused: keepalive"), fetched.body


@pytest.mark.parametrize("raw", ["0", "0.05", "3600"])
async def test_keepalive_inside_its_range_is_served(raw: str) -> None:
    """The bounds themselves, and 0 (no comments), are accepted."""
    params = [("events", '[{"data":"a"}]'), ("keepalive", raw)]
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", SSE_PATH, params=params)
    assert fetched.status == 200, raw


async def test_head_of_the_log_gets_the_headers_only() -> None:
    """Regression: ``HEAD /conformance/log`` got a 405 where every other stream answers HEAD."""
    params = [("lines", '["a","b"]')]
    fetched = await fetch(AsgiClient(create_app(FAST)), "HEAD", LOG_PATH, params=params)
    assert fetched.status == 200
    assert (fetched.header("content-type") or "").startswith("text/plain")
    assert fetched.body == b""


@pytest.mark.parametrize(
    "raw",
    [
        '{"X-A":" "}',
        '{"X-A":"v "}',
        '{"X-A":" v"}',
        '{"X-A":"v\\t"}',
        '{"X-Accel-Buffering":"yes"}',
        '{"x-content-type-options":"sniff"}',
        '{"X-A":"1","x-a":"2"}',
    ],
)
@pytest.mark.parametrize("path", [SSE_PATH, TEXT_PATH])
async def test_custom_headers_that_cannot_be_carried_are_refused_with_400(
    path: str, raw: str
) -> None:
    """Regression: a value with surrounding whitespace got no response at all (h11 refused
    to write it); ``X-Accel-Buffering`` replaced the stream's own; two spellings sent both."""
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", path, params=[("headers", raw)])
    assert fetched.status == 400, raw
    assert fetched.body.startswith(b"refused: header"), fetched.body


async def test_a_custom_header_with_inner_spaces_is_carried() -> None:
    """Inner spaces stay allowed."""
    params = [("headers", '{"X-A":"a b"}')]
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", SSE_PATH, params=params)
    assert fetched.status == 200
    assert fetched.header("x-a") == "a b"


DEEP = "[" * 1000
SURROGATE = '"\\ud800"'


@pytest.mark.parametrize(
    ("path", "name", "raw"),
    [
        (SSE_PATH, "events", DEEP),
        (TEXT_PATH, "chunks", DEEP),
        (LOG_PATH, "lines", DEEP),
        (SSE_PATH, "headers", DEEP),
        (SSE_PATH, "events", '[{"data":' + SURROGATE + "}]"),
        (SSE_PATH, "events", '[{"comment":' + SURROGATE + "}]"),
        (TEXT_PATH, "chunks", "[" + SURROGATE + "]"),
        (LOG_PATH, "lines", "[" + SURROGATE + "]"),
    ],
)
async def test_deep_json_and_lone_surrogates_are_refused_with_400(
    path: str, name: str, raw: str
) -> None:
    """Regression: 1,000 ``[`` got a 500 (RecursionError); a lone surrogate a 200 whose body
    then broke (UnicodeEncodeError)."""
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", path, params=[(name, raw)])
    assert fetched.status == 400, (path, name, raw[:20])
    assert not fetched.aborted


async def test_a_lone_surrogate_with_declare_length_is_refused_with_400() -> None:
    """Regression: with ``declare_length=true`` a lone surrogate got a 500."""
    params = [("chunks", "[" + SURROGATE + "]"), ("declare_length", "true")]
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", TEXT_PATH, params=params)
    assert fetched.status == 400


@pytest.mark.parametrize("body", [DEEP.encode(), b'["ok","\\ud800","after"]'])
async def test_a_feed_post_that_cannot_be_carried_is_refused_before_it_is_stored(
    body: bytes,
) -> None:
    """Regression: a lone surrogate was stored and poisoned every later GET of the feed."""
    client = AsgiClient(create_app(FAST))
    fetched = await fetch(client, "POST", FEED_PATH + "/f", body=body)
    assert fetched.status == 400
    published = await fetch(client, "POST", FEED_PATH + "/f", body=b'["ok"]')
    assert published.status == 200
    assert published.body == b'{"ids":["1"]}'


LONG = "1" * 4301


async def test_a_range_past_the_int_digit_limit_gets_a_defined_answer() -> None:
    """Regression: ``Range: bytes=0-`` and 4,301 digits got a 500; it ends past the file: 206."""
    client = AsgiClient(create_app(FAST))
    headers = [("range", "bytes=0-" + LONG)]
    fetched = await fetch(client, "GET", FILES_PATH + "/small.txt", headers=headers)
    assert fetched.status == 206
    unsatisfiable = [("range", f"bytes={LONG}-")]
    fetched = await fetch(client, "GET", FILES_PATH + "/small.txt", headers=unsatisfiable)
    assert fetched.status == 416


async def test_a_last_event_id_past_the_int_digit_limit_is_no_id_of_ours() -> None:
    """Regression: ``Last-Event-ID`` of 4,301 digits got a 500 on /events."""
    headers = [("last-event-id", LONG)]
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", "/events", headers=headers)
    assert fetched.status == 200
    assert not fetched.aborted
