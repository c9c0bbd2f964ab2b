"""The source document's three cases, done right.

* ``GET /logs/stream``: a live text log, one line a chunk, each ending in a real newline.
* ``GET /events``: Server-Sent Events carrying JSON, each with an id, ending with ``event: done``.
* ``GET /events/page``: a page that reads ``/events`` with the browser's ``EventSource``.
* ``GET /download/{name}``: a file from the configured root (:mod:`impl.download`).
* ``POST /chat``: a fake model's answer to ``{"prompt": ..., "style": "openai" | "typed"}``,
  streamed as a chat API streams it (:mod:`impl.chat`): keep-alive comments while it thinks,
  then one event a token, then ``data: [DONE]`` (or ``response.completed``).
* ``GET /chat/page``: a page that reads ``POST /chat`` with ``fetch`` and a ``ReadableStream``
  (``EventSource`` cannot send a POST), and whose Stop button aborts the request.

Each route declares its one-line summary and the rules it illustrates
(:func:`impl.index.demo`): ``GET /`` lists them from there.

``/events`` resumes: event *n* has id *n* (``done`` is *count* + 1), and a
request with ``Last-Event-ID: n`` gets the events after *n*. A client that
already has every event, ``done`` included, gets **204 No Content**, which
tells an ``EventSource`` to stop reconnecting (WHATWG HTML, server-sent events:
a response other than 200 ``text/event-stream`` fails the connection for
good). ``Settings.event_retry`` sends ``retry:`` with each response's first
event; ``Settings.events_per_response`` ends a response after that many
events, and the client's reconnection resumes the stream.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from impl.chat import fake_model, framed
from impl.download import FileDownload
from impl.index import demo
from impl.lifecycle import ShutdownNotice
from impl.logs import LogStreamResponse
from impl.settings import Settings
from impl.sse import EventStreamResponse
from spec.chat import STYLES, Style
from spec.kit.bodies import read_capped, too_large
from spec.sse import Event
from spec.surface import read_json

#: The page of ``GET /events/page`` (its script only sets text, never markup).
EVENTSOURCE_PAGE = Path(__file__).parent / "static" / "eventsource.html"
#: The page of ``GET /chat/page`` (its script only sets text, never markup).
CHAT_PAGE = Path(__file__).parent / "static" / "chat.html"
CHAT_BODY_LIMIT = 64 * 1024
PROMPT_LIMIT = 2000


def _chat_request(raw: bytes) -> tuple[str, Style]:
    """``(prompt, style)`` of a ``POST /chat`` body; ``ValueError`` (a 400) otherwise."""
    try:
        members = read_json(raw.decode("utf-8"), "the body")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    if not isinstance(members, dict) or set(members) - {"prompt", "style"}:
        raise ValueError('the body is {"prompt": TEXT, "style": "openai" or "typed"}')
    prompt, style = members.get("prompt", ""), members.get("style", "openai")
    if not isinstance(prompt, str) or len(prompt) > PROMPT_LIMIT:
        raise ValueError(f"prompt is a string of at most {PROMPT_LIMIT} characters")
    for known in STYLES:
        if style == known:
            return prompt, known
    raise ValueError(f"style is one of {', '.join(STYLES)}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _resume_after(last_event_id: str | None) -> int:
    """The number of the last event a reconnecting client has (0 if none or not ours)."""
    if (
        last_event_id
        and len(last_event_id) <= 18
        and last_event_id.isascii()
        and last_event_id.isdigit()
    ):
        # more than 18 digits is no id of ours (and past int()'s digit limit at 4,301)
        return int(last_event_id)
    return 0


def _get_and_head(
    router: APIRouter, path: str, **declared: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an endpoint for GET, with *declared* (its summary and demo), and for HEAD
    outside the OpenAPI schema: one route with both methods would give both operations
    one operation ID (FastAPI warns of the duplicate)."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, endpoint, methods=["GET"], **declared)
        router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)
        return endpoint

    return register


def build_router(settings: Settings, notice: ShutdownNotice) -> APIRouter:
    """The demo routes, reading their pacing and file root from *settings*."""
    router = APIRouter()

    @_get_and_head(
        router,
        "/logs/stream",
        summary="A live text log: each line leaves as it is made, ending in a real newline.",
        openapi_extra=demo(
            "CHUNK-LOG-01",
            "CHUNK-LOG-02",
            "HDR-TEXT-01",
            "HDR-TEXT-02",
            "HDR-TEXT-03",
            "CANCEL-CLEANUP-01",
            "CANCEL-HEAD-01",
        ),
    )
    async def log_stream() -> Response:
        async def lines() -> AsyncIterator[str]:
            for number in range(1, settings.log_lines + 1):
                yield f"{_now()} INFO line {number} of {settings.log_lines}: ok"
                if number < settings.log_lines:
                    await anyio.sleep(settings.log_interval)

        return LogStreamResponse(
            lines(),
            headers={"X-Stream-Id": str(uuid.uuid4())},
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    @_get_and_head(
        router,
        "/events",
        summary="Server-Sent Events carrying JSON, each with its id, ending with event: done; "
        "a reconnection with Last-Event-ID resumes after it, and 204 once nothing is left.",
        openapi_extra=demo(
            "SSE-ENC-01",
            "SSE-ENC-06",
            "HDR-SSE-01",
            "HDR-SSE-02",
            "HDR-SSE-03",
            "HDR-SSE-07",
            "CANCEL-KEEPALIVE-01",
            "CANCEL-RESUME-01",
            "CANCEL-RESUME-02",
        ),
    )
    async def events(request: Request) -> Response:
        # Event n has id n, so a client that reconnects with Last-Event-ID: n
        # resumes at n + 1 and misses nothing.
        last = settings.event_count + 1  # the id of ``done``
        after = _resume_after(request.headers.get("last-event-id"))
        if after >= last:
            return Response(status_code=204)
        numbers = range(after + 1, last + 1)[: settings.events_per_response]

        async def produce() -> AsyncIterator[Event]:
            for number in numbers:
                first = number == numbers[0]
                if not first:
                    await anyio.sleep(settings.event_interval)
                retry = settings.event_retry if first else None
                if number == last:
                    done = json.dumps({"total": settings.event_count})
                    yield Event(data=done, event="done", id=str(number), retry=retry)
                else:
                    payload = {"seq": number, "time": _now(), "message": f"update {number}"}
                    yield Event(data=json.dumps(payload), id=str(number), retry=retry)

        return EventStreamResponse(
            produce(),
            keepalive=settings.keepalive,
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    @router.get(
        "/events/page",
        summary="A page that reads /events with the browser's EventSource, reconnecting "
        "with Last-Event-ID until the stream is over.",
        openapi_extra=demo("HDR-SSE-06", "HDR-SSE-07", "HDR-XFER-03", "CANCEL-RESUME-02"),
    )
    async def events_page() -> Response:
        return FileResponse(EVENTSOURCE_PAGE, headers={"Cache-Control": "no-cache"})

    # Listed in the index through its page (a POST has no link to follow).
    @router.post("/chat", include_in_schema=False)
    async def chat(request: Request) -> Response:
        raw = await read_capped(request, CHAT_BODY_LIMIT)
        if raw is None:
            return too_large(CHAT_BODY_LIMIT)
        try:
            prompt, style = _chat_request(raw)
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        tokens = fake_model(
            prompt, thinking=settings.chat_thinking, interval=settings.chat_interval
        )
        return EventStreamResponse(
            framed(tokens, style),
            keepalive=settings.keepalive,
            shutdown=notice,
            send_timeout=settings.send_timeout,
        )

    @router.get(
        "/chat/page",
        summary="A chat page that POSTs to /chat (a fake model, nothing downloaded) and reads "
        "the answer with fetch and a ReadableStream, token by token; Stop aborts the fetch "
        "and the generation.",
        openapi_extra=demo(
            "CHAT-POST-01",
            "CHAT-FRAME-01",
            "CHAT-DONE-01",
            "CHAT-TYPED-01",
            "CHAT-ERR-01",
            "CHAT-WAIT-01",
            "CHAT-CANCEL-01",
        ),
    )
    async def chat_page() -> Response:
        return FileResponse(CHAT_PAGE, headers={"Cache-Control": "no-cache"})

    @_get_and_head(
        router,
        "/download/{name:path}",
        summary="A file from the served root, resumable with Range, its name kept in "
        "Content-Disposition; nothing outside the root is served.",
        openapi_extra=demo(
            "FILE-SERVE-01",
            "FILE-NAME-01",
            "FILE-LOOP-01",
            "FILE-DISP-01",
            "FILE-META-01",
            "FILE-META-02",
            "FILE-COND-01",
            "FILE-RANGE-01",
            example="/download/sample.txt",
        ),
    )
    async def download(name: str) -> Response:
        return FileDownload(
            settings.files_root, name, send_timeout=settings.send_timeout, shutdown=notice
        )

    return router
