"""The reference app's demo streams: the source document's three cases, done right.

Read at the ASGI message level, where each chunk the app produced is one
message; the pacing settings are zero so nothing waits.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from impl.app import create_app
from impl.settings import Settings
from spec.sse import Decoder, MessageEvent
from spec.streams import fetch
from spec.targets.client import AsgiClient

FAST = Settings(log_interval=0, event_interval=0, log_lines=5, event_count=3)


async def test_log_stream_sends_one_line_per_chunk() -> None:
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", "/logs/stream")
    assert fetched.status == 200
    assert fetched.header("content-type") == "text/plain; charset=utf-8"
    assert fetched.header("x-content-type-options") == "nosniff"
    assert fetched.header("cache-control") == "no-cache"
    assert fetched.header("x-stream-id")
    assert len(fetched.chunks) == 5
    for number, chunk in enumerate(fetched.chunks, 1):
        assert chunk.endswith(b"\n")
        assert chunk.count(b"\n") == 1
        assert f"line {number} of 5".encode() in chunk


async def test_event_stream_sends_json_events_with_ids_then_done() -> None:
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", "/events")
    assert fetched.status == 200
    assert fetched.header("content-type") == "text/event-stream; charset=utf-8"
    assert fetched.header("x-accel-buffering") == "no"
    decoder = Decoder()
    events = [
        item
        for chunk in fetched.chunks
        for item in decoder.feed(chunk)
        if isinstance(item, MessageEvent)
    ]
    assert [event.last_event_id for event in events] == ["1", "2", "3", "4"]
    assert [json.loads(event.data)["seq"] for event in events[:3]] == [1, 2, 3]
    assert events[-1].type == "done"
    assert json.loads(events[-1].data) == {"total": 3}


def _events(chunks: list[bytes]) -> list[MessageEvent]:
    decoder = Decoder()
    return [
        item for chunk in chunks for item in decoder.feed(chunk) if isinstance(item, MessageEvent)
    ]


async def test_event_stream_resumes_after_last_event_id_and_sends_retry_first() -> None:
    client = AsgiClient(create_app(replace(FAST, event_count=5, event_retry=300)))
    fetched = await fetch(client, "GET", "/events", headers=[("Last-Event-ID", "3")])
    assert [event.last_event_id for event in _events(fetched.chunks)] == ["4", "5", "6"]
    assert fetched.chunks[0].count(b"retry: 300\n") == 1
    assert not any(b"retry:" in chunk for chunk in fetched.chunks[1:])


async def test_event_stream_ends_each_response_after_events_per_response() -> None:
    client = AsgiClient(create_app(replace(FAST, event_count=4, events_per_response=2)))
    seen = []
    for last in (None, "2", "4"):
        headers = [] if last is None else [("Last-Event-ID", last)]
        fetched = await fetch(client, "GET", "/events", headers=headers)
        assert fetched.status == 200
        seen.append([(e.type, e.last_event_id) for e in _events(fetched.chunks)])
    assert seen == [
        [("message", "1"), ("message", "2")],
        [("message", "3"), ("message", "4")],
        [("done", "5")],
    ]


async def test_event_stream_answers_204_to_a_client_that_has_every_event() -> None:
    client = AsgiClient(create_app(FAST))
    for last in ("4", "5", "99"):
        fetched = await fetch(client, "GET", "/events", headers=[("Last-Event-ID", last)])
        assert fetched.status == 204, last
        assert fetched.body == b""
    fetched = await fetch(client, "GET", "/events", headers=[("Last-Event-ID", "3")])
    assert [event.type for event in _events(fetched.chunks)] == ["done"]


def test_settings_refuse_a_negative_retry_and_an_empty_response() -> None:
    with pytest.raises(ValueError, match="event_retry"):
        Settings(event_retry=-1)
    with pytest.raises(ValueError, match="events_per_response"):
        Settings(events_per_response=0)


async def test_the_eventsource_page_sets_text_never_markup() -> None:
    fetched = await fetch(AsgiClient(create_app(FAST)), "GET", "/events/page")
    assert fetched.status == 200
    assert fetched.header("content-type") == "text/html; charset=utf-8"
    page = fetched.body.decode()
    assert 'new EventSource("/events")' in page
    assert 'addEventListener("done"' in page
    assert "textContent" in page
    assert "innerHTML" not in page


async def test_download_serves_a_file_from_the_root(tmp_path: Path) -> None:
    (tmp_path / "report.csv").write_bytes(b"a,b\n1,2\n")
    app = create_app(Settings(files_root=tmp_path))
    fetched = await fetch(AsgiClient(app), "GET", "/download/report.csv")
    assert fetched.status == 200
    assert fetched.body == b"a,b\n1,2\n"
    assert fetched.header("content-length") == "8"
    assert fetched.header("content-disposition") == 'attachment; filename="report.csv"'


async def test_download_refuses_names_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret").write_bytes(b"secret")
    (root / "link").symlink_to(tmp_path / "secret")
    client = AsgiClient(create_app(Settings(files_root=root)))
    for name in ("../secret", "link", "nothing", "a\x00b", "..", "."):
        fetched = await fetch(client, "GET", f"/download/{name}")
        assert fetched.status == 404, name
        assert b"secret" not in fetched.body


async def test_download_answers_head_and_ranges(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(bytes(range(256)))
    client = AsgiClient(create_app(Settings(files_root=tmp_path)))
    head = await fetch(client, "HEAD", "/download/data.bin")
    assert head.status == 200
    assert head.header("content-length") == "256"
    assert head.body == b""
    ranged = await fetch(client, "GET", "/download/data.bin", headers=[("range", "bytes=-2")])
    assert ranged.status == 206
    assert ranged.header("content-range") == "bytes 254-255/256"
    assert ranged.body == bytes([254, 255])
