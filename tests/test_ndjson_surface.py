"""``GET /conformance/ndjson`` (:mod:`spec.kit.records`) on the reference, on a real socket.

The reference's records decode (with :class:`spec.ndjson.Decoder`) to the
records asked for, with nothing pending at the end; ``fail_after=N`` gives N
records and an aborted body; the capability follows the factory; a broken
factory (a raw LF inside a record) is caught by the same reading.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from starlette.responses import Response, StreamingResponse

from impl.app import create_app
from spec.chapters.cancel import new_id, observe_until
from spec.kit import Kit
from spec.kit.records import NDJSONRequest
from spec.ndjson import Decoder, Malformed, Record, Truncated
from spec.streams import Fetched
from spec.targets.asgi_types import ASGIApp
from spec.targets.client import SocketClient
from spec.targets.server import serve
from spec.wire import raw_fetch

pytestmark = pytest.mark.anyio

RECORDS: list[Any] = [{"a": "x\ny"}, "例🎉", [1, 2.5, None, True], "\u2028", 0]


def target(records: list[Any], **params: str) -> bytes:
    query = "&".join(f"{key}={quote(value)}" for key, value in params.items())
    joined = f"records={quote(json.dumps(records))}" + (f"&{query}" if query else "")
    return f"/conformance/ndjson?{joined}".encode()


def decoded(fetched: Fetched) -> list[Record | Malformed | Truncated]:
    decoder = Decoder()
    out: list[Record | Malformed | Truncated] = [*decoder.feed(fetched.body)]
    return [*out, *decoder.close()]


async def fetch_from(app: ASGIApp, path: bytes) -> Fetched:
    with serve(app) as base_url:
        return await raw_fetch(base_url, "GET", path)


async def test_the_reference_streams_the_records_asked_for() -> None:
    fetched = await fetch_from(create_app(), target(RECORDS))
    assert fetched.status == 200
    assert (fetched.header("content-type") or "").split(";")[0] == "application/x-ndjson"
    assert not fetched.aborted, fetched.error
    items = decoded(fetched)
    assert all(isinstance(item, Record) for item in items), items
    assert [item.value for item in items if isinstance(item, Record)] == RECORDS


async def test_a_producer_error_aborts_the_body_after_the_records_made() -> None:
    fetched = await fetch_from(create_app(), target(RECORDS, fail_after="2"))
    assert fetched.status == 200
    assert fetched.aborted, "the body ended cleanly after the producer failed"
    items = decoded(fetched)
    assert [item.value for item in items if isinstance(item, Record)] == RECORDS[:2]


async def test_malformed_records_are_refused_with_400() -> None:
    fetched = await fetch_from(create_app(), b"/conformance/ndjson?records=%7B%7D")
    assert fetched.status == 400


def _raw_newline(request: NDJSONRequest) -> Response:
    async def body() -> Any:
        async for value in request.records:
            yield json.dumps(value, indent=1) + "\n"  # indent puts raw LFs inside records

    return StreamingResponse(body(), media_type=request.media_type)


async def test_a_raw_newline_inside_a_record_is_seen_as_malformed() -> None:
    fetched = await fetch_from(Kit(ndjson=_raw_newline), target([{"a": 1}]))
    assert fetched.status == 200
    assert any(isinstance(item, Malformed) for item in decoded(fetched))


async def test_the_capability_follows_the_factory() -> None:
    assert Kit(ndjson=_raw_newline).capabilities["ndjson"] is True
    assert Kit().capabilities["ndjson"] is False
    fetched = await fetch_from(Kit(), target([1]))
    assert fetched.status == 404


async def test_the_reference_closes_the_cursor_when_the_client_leaves() -> None:
    """Two rows of the SQLite query read off a real socket, the client gone: the producer
    reports ``cleanup``, which it sets only once the cursor refuses to fetch again."""
    stream_id = new_id()
    with serve(create_app()) as base_url:
        client = SocketClient(base_url)
        async with client.stream(
            "GET", "/conformance/ndjson/cursor", params=[("id", stream_id)]
        ) as response:
            assert response.status == 200
            seen = b""
            async for chunk in response.chunks():
                seen += chunk
                if seen.count(b"\n") >= 2:
                    break
        facts = await observe_until(client, stream_id, "cleanup")
    assert facts["cleanup"], facts
    decoder = Decoder()
    assert [item.value for item in decoder.feed(seen)][:2] == [
        {"n": 1, "text": "row 1"},
        {"n": 2, "text": "row 2"},
    ]
