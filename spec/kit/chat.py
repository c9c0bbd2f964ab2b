"""``POST /conformance/chat``: a fake model's tokens, for the chapter "AI token streams".

The request's body is a JSON object (at most :data:`MAX_BODY` bytes, nested at
most 32 deep, no lone surrogate: :func:`spec.surface.read_json`):

* ``tokens``: a list of strings, the model's output in order (at most
  :data:`MAX_TOKENS`), made ``repeat`` times over (default 1, at most
  :data:`MAX_REPEAT`);
* ``style``: ``"openai"`` (data-only chunks ended by ``[DONE]``) or ``"typed"``
  (Responses-style typed events ended by one terminal event), see :mod:`spec.chat`;
* ``delay_ms``: how long the model "thinks" before its first token (0 to
  :data:`MAX_DELAY_MS`);
* ``fail_after``: the model raises :class:`GenerationFailed` after that many
  tokens (``null``: never);
* ``keepalive``: seconds between keep-alive comments while nothing else is sent
  (0: none; otherwise 0.05 to 3600; absent: the library's default);
* ``id``: the producer reports under it at ``GET /conformance/observe``
  (started, tokens produced, cleanup), as the CANCEL chapter's producers do.

The query may name a gate (``gate=NAME``, ``gate_first=true``: the surface's
gates), at which the model waits before each token after the first (before
the first too, with ``gate_first``), so the suite can see each token arrive
before the next one exists.

Anything else (not JSON, not an object, an unknown member, a member of the
wrong type or out of range) gets a 400 before the model starts; a larger body
gets a 413 (:mod:`spec.kit.bodies`). The kit hands the factory a
:class:`ChatRequest`; the library frames the tokens in the style asked, sends
each as it is made, tells a failure in the stream, and closes the producer
when the client leaves.

Written by hand: the surface is streamspec's protocol; the framing and the
streaming are the library's.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel
from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response

from spec.chat import (
    DONE_EVENT,
    STYLES,
    Style,
    openai_chunk,
    openai_error,
    typed_completed,
    typed_delta,
    typed_failure,
)
from spec.kit.bodies import read_capped, too_large
from spec.kit.factories import respond
from spec.kit.gates import Gate, GateRegistry, claim_or_refuse, gated, registry_of
from spec.kit.observations import Observations, Record
from spec.kit.params import KEEPALIVE_MAX, KEEPALIVE_MIN
from spec.sse import Event
from spec.surface import CHAT_PATH, read_json
from spec.targets.asgi_types import ASGIApp, Scope

MAX_BODY = 1024 * 1024
"""The largest body ``POST /conformance/chat`` reads; a larger one gets 413."""
MAX_TOKENS = 10_000
MAX_REPEAT = 100_000
MAX_DELAY_MS = 600_000
_MEMBERS = frozenset({"tokens", "style", "delay_ms", "fail_after", "keepalive", "id", "repeat"})


class GenerationFailed(RuntimeError):
    """The failure the suite asked for with ``fail_after``."""


@dataclass(frozen=True)
class ChatRequest:
    """One chat stream the suite asked for.

    Attributes:
        tokens: the model, an async generator of tokens; it may wait before the
            first (the model thinking), and may raise :class:`GenerationFailed`
            after the response has started: the library then sends its error
            event and ends the stream.
        style: ``openai`` or ``typed`` (:mod:`spec.chat`).
        keepalive: seconds between keep-alive comments while nothing else is
            sent; ``None``: the library's default; ``0``: none.
        scope: the ASGI scope of the request (``POST``; the kit has read its body).
    """

    tokens: AsyncIterator[str]
    style: Style
    keepalive: float | None
    scope: Scope


ChatFactory = Callable[[ChatRequest], Any]
"""``ChatRequest -> ASGIApp`` (or an awaitable of one)."""


@dataclass(frozen=True)
class ChatBody:
    """The body of ``POST /conformance/chat``, validated."""

    tokens: tuple[str, ...]
    style: Style = "openai"
    delay_ms: int = 0
    fail_after: int | None = None
    keepalive: float | None = None
    id: str | None = None
    repeat: int = 1


def _integer(members: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = members.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}")
    return value


def read_body(raw: bytes) -> ChatBody:
    """The body's members, checked; ``ValueError`` (a 400) for anything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    members = read_json(text, "the body")
    if not isinstance(members, dict):
        raise ValueError("the body must be a JSON object")
    unknown = set(members) - _MEMBERS
    if unknown:
        raise ValueError(f"unknown members: {sorted(unknown)[:5]}")
    tokens = members.get("tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        raise ValueError("tokens must be a list of strings")
    if len(tokens) > MAX_TOKENS:
        raise ValueError(f"tokens holds at most {MAX_TOKENS} tokens")
    style = members.get("style", "openai")
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}")
    keepalive = members.get("keepalive")
    if keepalive is not None:
        if isinstance(keepalive, bool) or not isinstance(keepalive, (int, float)):
            raise ValueError("keepalive must be a number of seconds")
        if not (keepalive == 0 or KEEPALIVE_MIN <= keepalive <= KEEPALIVE_MAX):
            raise ValueError(f"keepalive must be 0 or from {KEEPALIVE_MIN} to {KEEPALIVE_MAX}")
        keepalive = float(keepalive)
    stream_id = members.get("id")
    if stream_id is not None and not (isinstance(stream_id, str) and 1 <= len(stream_id) <= 100):
        raise ValueError("id must be a string of 1 to 100 characters")
    repeat = _integer(members, "repeat", 0, MAX_REPEAT)
    return ChatBody(
        tokens=tuple(tokens),
        style=style,
        delay_ms=_integer(members, "delay_ms", 0, MAX_DELAY_MS) or 0,
        fail_after=_integer(members, "fail_after", 0, MAX_TOKENS * MAX_REPEAT),
        keepalive=keepalive,
        id=stream_id,
        repeat=1 if repeat is None else repeat,
    )


def _expanded(body: ChatBody) -> Iterator[str]:
    for _ in range(body.repeat):
        yield from body.tokens


async def model(
    body: ChatBody, record: Record, gate: Gate | None = None, registry: GateRegistry | None = None
) -> AsyncIterator[str]:
    """The fake model: ``delay_ms`` of thinking, then the tokens, reporting to *record*
    (held at *gate*, if any, before each token after the first: :func:`spec.kit.gates.gated`).

    It awaits a checkpoint after each token, as a model's client awaits the
    next one; from its ``finally`` it sets ``cleanup``.
    """
    record.started.set()
    try:
        if body.delay_ms:
            await anyio.sleep(body.delay_ms / 1000)
        made = 0
        async with aclosing(gated(_expanded(body), gate, registry or GateRegistry())) as tokens:
            async for token in tokens:
                if made == body.fail_after:
                    raise GenerationFailed(f"failed after {made} tokens, as requested")
                made += 1
                record.produced = made
                yield token
                await anyio.lowlevel.checkpoint()
        if made == body.fail_after:
            raise GenerationFailed(f"failed after {made} tokens, as requested")
    finally:
        record.cleanup.set()


async def chat_events(tokens: AsyncIterator[str], style: Style) -> AsyncGenerator[Event, None]:
    """The model's *tokens* as the convention's events (:mod:`spec.chat`), library-neutral.

    Each token is one delta event; then the end marker (``openai``: a chunk with
    ``finish_reason`` and ``[DONE]``; ``typed``: ``response.completed``). A model
    that raises after the response started is told by the convention's error
    event(s), and the events end. Closing this closes *tokens*. A peer wraps
    each event in its library's event type; the framing stays the library's.
    """
    text = ""
    try:
        async for token in tokens:
            text += token
            yield openai_chunk(token) if style == "openai" else typed_delta(token)
    except Exception as error:  # the 200 has been sent: the stream is where the error goes
        message = f"generation failed: {type(error).__name__}"
        for event in [openai_error(message)] if style == "openai" else typed_failure(message):
            yield event
        return
    finally:
        aclose = getattr(tokens, "aclose", None)
        if aclose is not None:
            await aclose()
    if style == "openai":
        yield openai_chunk("", finish_reason="stop")
        yield DONE_EVENT
    else:
        yield typed_completed(text)


def build_router(factory: ChatFactory | None, observations: Observations) -> APIRouter:
    """``POST /conformance/chat`` when *factory* is supplied (nothing otherwise); a request
    with an ``id`` reports to *observations*."""
    router = APIRouter()
    if factory is None:
        return router

    @router.post(CHAT_PATH)
    async def chat(request: Request, gate: str | None = Query(None)) -> Response:
        """Stream the fake model's tokens with the library's chat response."""
        raw = await read_capped(request, MAX_BODY)
        if raw is None:
            return too_large(MAX_BODY)
        try:
            body = read_body(raw)
        except ValueError as error:
            return PlainTextResponse(f"refused: {error}\n", status_code=400)
        claimed = claim_or_refuse(request, gate)
        if isinstance(claimed, Response):
            return claimed
        record = Record() if body.id is None else observations.new(body.id)
        asked = ChatRequest(
            tokens=model(body, record, claimed, registry_of(request)),
            style=body.style,
            keepalive=body.keepalive,
            scope=request.scope,
        )
        app: Callable[[ChatRequest], ASGIApp] = factory
        return await respond(app, asked)

    return router
