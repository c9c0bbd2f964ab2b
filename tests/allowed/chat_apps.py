"""Chat token streams that take liberties the conventions and SSE allow, behind the kit.

``tests/test_chat_fails.py`` shows every CHAT check passing on them.

* ``verbose``: the ``openai`` stream as real servers write it: a first chunk
  with the role and no content, ``data:`` without its space, CRLF line ends,
  comment lines and event ids between chunks, a ``finish_reason`` chunk and a
  usage chunk with empty ``choices`` before ``data:[DONE]``, keep-alive
  comments of its own text; a failure is the error chunk and then an aborted
  body (no clean end). Its ``typed`` stream is the reference's, except that a
  failure is an ``error`` event followed by an aborted body.
* ``responses``: the ``typed`` stream with the Responses API's whole event
  sequence (``response.created``, ``response.in_progress``, output item and
  content part events, ``response.output_text.done``, a ``sequence_number``
  in every event) and a failure told by ``response.failed`` alone.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from starlette.responses import Response, StreamingResponse

from impl.chat import FAILURE_MESSAGE, framed
from impl.streaming import KeepAlive, StreamResponse, transformed
from spec.chat import typed
from spec.kit import Kit, Stream, StreamRequest
from spec.kit.chat import ChatRequest, GenerationFailed
from spec.sse import Event, encode


def _keepalive(request: ChatRequest, payload: bytes) -> KeepAlive | None:
    interval = 15.0 if request.keepalive is None else request.keepalive
    return KeepAlive(interval, payload) if interval else None


def _lines(*lines: str) -> bytes:
    """SSE lines ended by CRLF, then the blank line that dispatches (written by hand: the
    liberty shown is the wire's)."""
    return "".join(line + "\r\n" for line in lines).encode() + b"\r\n"


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return json.dumps({"object": "chat.completion.chunk", "choices": [choice]})


async def _verbose_openai(tokens: AsyncIterator[str]) -> AsyncIterator[bytes]:
    yield _lines("id: 0", "data:" + _chunk({"role": "assistant", "content": ""}))
    number = 0
    try:
        async with aclosing(tokens):  # type: ignore[type-var]
            async for token in tokens:
                number += 1
                yield _lines(": next", f"id: {number}", "data:" + _chunk({"content": token}))
    except GenerationFailed:
        yield _lines("data:" + json.dumps({"error": {"message": FAILURE_MESSAGE}}))
        raise
    yield _lines("data:" + _chunk({}, "stop"))
    yield _lines("data:" + json.dumps({"choices": [], "usage": {"completion_tokens": number}}))
    yield _lines("data:[DONE]")


async def _typed_then_abort(tokens: AsyncIterator[str]) -> AsyncIterator[bytes]:
    try:
        async with aclosing(framed(_raising(tokens), "typed")) as events:
            async for event in events:
                yield encode(event)
    except _Failed as failed:
        yield encode(typed("error", error={"message": FAILURE_MESSAGE}))
        raise RuntimeError(FAILURE_MESSAGE) from failed  # an Exception: the body is aborted


class _Failed(BaseException):
    """The model's failure, carried past the reference's ``except Exception``."""


async def _raising(tokens: AsyncIterator[str]) -> AsyncIterator[str]:
    try:
        async with aclosing(tokens):  # type: ignore[type-var]
            async for token in tokens:
                yield token
    except GenerationFailed as error:
        raise _Failed from error


def _verbose(request: ChatRequest) -> Response:
    body = (
        _verbose_openai(request.tokens)
        if request.style == "openai"
        else _typed_then_abort(request.tokens)
    )
    return StreamResponse(
        body, media_type="text/event-stream", keepalive=_keepalive(request, b": ping\r\n\r\n")
    )


async def _responses_typed(tokens: AsyncIterator[str]) -> AsyncIterator[Event]:
    sequence = 0

    def event(kind: str, **members: Any) -> Event:
        nonlocal sequence
        sequence += 1
        return typed(kind, sequence_number=sequence, **members)

    response = {"id": "resp_1", "status": "in_progress"}
    yield event("response.created", response=response)
    yield event("response.in_progress", response=response)
    yield event("response.output_item.added", output_index=0, item={"type": "message"})
    yield event("response.content_part.added", output_index=0, content_index=0)
    text = ""
    try:
        async with aclosing(tokens):  # type: ignore[type-var]
            async for token in tokens:
                text += token
                yield event("response.output_text.delta", output_index=0, delta=token)
    except GenerationFailed:
        failed = {"id": "resp_1", "status": "failed", "error": {"message": FAILURE_MESSAGE}}
        yield event("response.failed", response=failed)
        return
    yield event("response.output_text.done", output_index=0, text=text)
    yield event("response.content_part.done", output_index=0, content_index=0)
    yield event("response.output_item.done", output_index=0, item={"type": "message"})
    yield event("response.completed", response={"id": "resp_1", "status": "completed"})


def _responses(request: ChatRequest) -> Response:
    events = (
        _responses_typed(request.tokens)
        if request.style == "typed"
        else framed(request.tokens, "openai")
    )
    return StreamResponse(
        transformed(events, encode),
        media_type="text/event-stream",
        keepalive=_keepalive(request, b": keep-alive\n\n"),
    )


def _endless(request: StreamRequest) -> Response:
    return StreamingResponse(request.body, media_type=request.media_type)


def _kit(factory: Any) -> Kit:
    return Kit(chat=factory, stream=Stream(_endless, kinds=frozenset({"endless"})))


verbose = _kit(_verbose)
responses = _kit(_responses)
