"""Chat token streams broken in one way each, behind the kit (``POST /conformance/chat``).

Each is a :class:`spec.kit.Kit` whose chat factory streams with the
reference's own response (:class:`~impl.sse.EventStreamResponse`: its
keep-alive, its disconnect handling) but frames the tokens with one detail
wrong, or, for the last ones, frames them right and gets the stream's life
wrong. ``tests/test_chat_fails.py`` names the checks that must catch each.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from impl.chat import FAILURE_MESSAGE, framed
from impl.sse import EventStreamResponse
from spec.chat import (
    DONE_EVENT,
    openai_chunk,
    openai_error,
    typed_completed,
    typed_delta,
)
from spec.kit import Kit, Stream, StreamRequest
from spec.kit.chat import ChatRequest, GenerationFailed
from spec.sse import Event
from spec.surface import CHAT_PATH

KEEPALIVE = 15.0

Framing = Callable[[ChatRequest], AsyncIterator[Event]]


def _respond(
    events: AsyncIterator[Event], request: ChatRequest, *, keepalive: bool = True
) -> Response:
    interval = KEEPALIVE if request.keepalive is None else request.keepalive
    return EventStreamResponse(events, keepalive=interval if keepalive else 0)


def _endless(request: StreamRequest) -> Response:
    return StreamingResponse(request.body, media_type=request.media_type)


def _kit(framing: Framing, *, keepalive: bool = True) -> Kit:
    """*framing* as the chat factory, with endless lines (which bring ``/conformance/observe``)."""

    def chat(request: ChatRequest) -> Response:
        return _respond(framing(request), request, keepalive=keepalive)

    return Kit(chat=chat, stream=Stream(_endless, kinds=frozenset({"endless"})))


async def _then(request: ChatRequest, *extra: Event) -> AsyncIterator[Event]:
    """The reference's framing, then *extra* after its end."""
    async for event in framed(request.tokens, request.style):
        yield event
    for event in extra:
        yield event


def _done_twice(request: ChatRequest) -> AsyncIterator[Event]:
    """``[DONE]`` sent twice (and, typed, ``response.completed`` twice)."""
    again = DONE_EVENT if request.style == "openai" else typed_completed("again")
    return _then(request, again)


def _data_after_done(request: ChatRequest) -> AsyncIterator[Event]:
    """A last chunk (a usage report, say) after ``[DONE]`` or after ``response.completed``."""
    late = openai_chunk(" late") if request.style == "openai" else typed_delta(" late")
    return _then(request, late)


async def _no_end_marker(request: ChatRequest) -> AsyncIterator[Event]:
    """The deltas only: no ``[DONE]``, no ``response.completed``; the body just ends."""
    async for token in request.tokens:
        yield openai_chunk(token) if request.style == "openai" else typed_delta(token)


async def _buffered(request: ChatRequest) -> AsyncIterator[Event]:
    """The whole answer gathered first, then sent chunk after chunk at once."""
    tokens = [token async for token in request.tokens]
    for token in tokens:
        yield openai_chunk(token) if request.style == "openai" else typed_delta(token)
    yield DONE_EVENT if request.style == "openai" else typed_completed("".join(tokens))


async def _raw_text(request: ChatRequest) -> AsyncIterator[Event]:
    """Tokens sent as the data itself, not as JSON chunks: ``data: Hel``."""
    async for token in request.tokens:
        yield Event(data=token)
    yield DONE_EVENT


async def _error_as_done(request: ChatRequest) -> AsyncIterator[Event]:
    """The model's failure swallowed: the stream ends as if the answer were complete."""
    text = ""
    try:
        async for token in request.tokens:
            text += token
            yield openai_chunk(token) if request.style == "openai" else typed_delta(token)
    except GenerationFailed:
        pass
    yield DONE_EVENT if request.style == "openai" else typed_completed(text)


async def _error_silent_end(request: ChatRequest) -> AsyncIterator[Event]:
    """The model's failure swallowed: no error event, no end marker, the body ends cleanly."""
    try:
        async for token in request.tokens:
            yield openai_chunk(token) if request.style == "openai" else typed_delta(token)
    except GenerationFailed:
        return
    yield DONE_EVENT if request.style == "openai" else typed_completed("")


async def _done_after_error(request: ChatRequest) -> AsyncIterator[Event]:
    """The error chunk, then ``[DONE]`` (typed: then ``response.completed``) as if complete."""
    text = ""
    try:
        async for token in request.tokens:
            text += token
            yield openai_chunk(token) if request.style == "openai" else typed_delta(token)
    except GenerationFailed:
        if request.style == "openai":
            yield openai_error(FAILURE_MESSAGE)
        else:
            yield Event(data=json.dumps({"type": "error", "error": {}}), event="error")
    yield DONE_EVENT if request.style == "openai" else typed_completed(text)


_DETACHED: set[asyncio.Task[None]] = set()


async def _runs_on(request: ChatRequest) -> Response:
    """The model runs in a task of its own that feeds a queue: when the client leaves, the
    response stops reading the queue, and nobody stops the task, which generates on."""
    queue: asyncio.Queue[str | Exception | None] = asyncio.Queue()

    async def generate() -> None:
        try:
            async for token in request.tokens:
                queue.put_nowait(token)
        except Exception as error:  # handed on to the response, which tells it
            queue.put_nowait(error)
            return
        queue.put_nowait(None)

    async def tokens() -> AsyncIterator[str]:
        while (token := await queue.get()) is not None:
            if isinstance(token, Exception):
                raise token
            yield token

    task = asyncio.get_running_loop().create_task(generate())
    _DETACHED.add(task)
    task.add_done_callback(_DETACHED.discard)
    return _respond(framed(tokens(), request.style), request)


async def _json_reply(request: ChatRequest) -> Response:
    """The whole answer at once, as JSON (what ``stream: false`` answers)."""
    text = "".join([token async for token in request.tokens])
    return JSONResponse({"choices": [{"message": {"content": text}}]})


def _chat_kit(factory: Callable[[ChatRequest], object]) -> Kit:
    return Kit(chat=factory, stream=Stream(_endless, kinds=frozenset({"endless"})))


done_twice = _kit(_done_twice)
data_after_done = _kit(_data_after_done)
no_end_marker = _kit(_no_end_marker)
raw_text = _kit(_raw_text)
buffered = _kit(_buffered)
error_as_done = _kit(_error_as_done)
error_silent_end = _kit(_error_silent_end)
done_after_error = _kit(_done_after_error)
no_keepalive = _kit(lambda request: framed(request.tokens, request.style), keepalive=False)
runs_on = _chat_kit(_runs_on)
json_reply = _chat_kit(_json_reply)
undeclared = Kit(stream=Stream(_endless, kinds=frozenset({"endless"})))
"""No chat factory: the capability is false (not broken: the rules do not apply)."""


async def _naive_chat(request: Request) -> Response:
    """The endpoint written the tutorial way: ``json.loads`` and ``members["tokens"]`` on
    whatever came, so a malformed body is an exception, a 500."""
    members = json.loads(await request.body())
    tokens = [str(token) for token in members["tokens"]]

    async def model() -> AsyncIterator[str]:
        for token in tokens:
            yield token

    return EventStreamResponse(framed(model(), members.get("style", "openai")))


naive_surface = Starlette(
    routes=[Route(CHAT_PATH, _naive_chat, methods=["POST"]), Mount("/", app=_chat_kit(_json_reply))]
)
"""A chat endpoint of its own in front of a kit: its refusals are 500s (``SURFACE-CHAT-01``)."""
