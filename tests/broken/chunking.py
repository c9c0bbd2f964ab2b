"""Conformance surfaces whose streams are delivered wrongly, each in one way.

Each app serves ``/conformance/text``, ``/conformance/bytes`` and
``/conformance/log`` with the reference app's parsing and gates, and hands the
produced chunks to a *delivery* (how the chunks become ``http.response.body``
messages) that is broken on purpose. ``MUTANTS`` names each with the CHUNK
rules it must be caught breaking; the module-level apps are targets for child
runs (``--target=tests.broken.chunking:buffered_producer``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from fastapi import FastAPI, Query, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from spec.kit import gates
from spec.kit.gates import claim_or_refuse, gated, registry_of
from spec.surface import (
    BYTES_PATH,
    CAPABILITIES_PATH,
    LOG_PATH,
    TEXT_PATH,
    byte_sizes_from_json,
    log_lines_from_json,
    text_chunks_from_json,
)
from spec.targets.asgi_types import Message, Receive, Scope, Send

Chunks = AsyncIterator[bytes]
Delivery = Callable[[Chunks, Send], Awaitable[None]]


def _body(data: bytes, more: bool) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


async def each_chunk(chunks: Chunks, send: Send) -> None:
    """The correct delivery: a message per chunk, then one final message."""
    async for chunk in chunks:
        await send(_body(chunk, True))
    await send(_body(b"", False))


async def buffered(chunks: Chunks, send: Send) -> None:
    """A producer that buffers its output in 4 KiB blocks, as ``io.BufferedWriter`` does."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= 4096:
            await send(_body(buffer, True))
            buffer = b""
    await send(_body(buffer, True))
    await send(_body(b"", False))


async def first_then_pairs(chunks: Chunks, send: Send) -> None:
    """Flushes the first chunk (for a quick first byte), then joins chunks in pairs."""
    pending: list[bytes] = []
    first = True
    async for chunk in chunks:
        if first:
            await send(_body(chunk, True))
            first = False
            continue
        pending.append(chunk)
        if len(pending) == 2:
            await send(_body(b"".join(pending), True))
            pending = []
    if pending:
        await send(_body(b"".join(pending), True))
    await send(_body(b"", False))


async def lookahead(chunks: Chunks, send: Send) -> None:
    """Holds one chunk back to send the last one with ``more_body`` false."""
    previous: bytes | None = None
    async for chunk in chunks:
        if previous is not None:
            await send(_body(previous, True))
        previous = chunk
    await send(_body(previous or b"", False))


async def no_final_message(chunks: Chunks, send: Send) -> None:
    """Sends every chunk and returns without the final ``more_body`` false message."""
    async for chunk in chunks:
        await send(_body(chunk, True))


async def two_final_messages(chunks: Chunks, send: Send) -> None:
    """Ends the body twice."""
    await each_chunk(chunks, send)
    await send(_body(b"", False))


async def text_relay(chunks: Chunks, send: Send) -> None:
    """Treats each chunk as text: decodes it alone (errors replaced) and encodes it again."""
    async for chunk in chunks:
        await send(_body(chunk.decode("utf-8", "replace").encode(), True))
    await send(_body(b"", False))


class DeliveredResponse(StreamingResponse):
    """A streaming response whose chunks are sent by *deliver*."""

    def __init__(
        self,
        chunks: Chunks,
        deliver: Delivery,
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(chunks, media_type=media_type, headers=headers)
        self.chunks = chunks
        self.deliver = deliver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await self.deliver(self.chunks, send)


async def _as_bytes(items: AsyncIterator[str] | AsyncIterator[bytes]) -> Chunks:
    async for item in items:
        yield item if isinstance(item, bytes) else item.encode()


def chunking_app(
    deliver: Delivery = each_chunk,
    *,
    line_end: str = "\n",
    count_length: Callable[[Iterable[str]], int] | None = None,
    honour_gates: bool = True,
    check_input: bool = True,
) -> FastAPI:
    """An app serving the text, bytes and log endpoints with *deliver*.

    Args:
        line_end: what the log endpoint writes after each line.
        count_length: how ``declare_length=true`` counts the text's length
            (default: its UTF-8 bytes, correctly).
        honour_gates: hold the producer at its gate; without it the gate is
            claimed (so the control endpoints answer) but open from the start.
        check_input: refuse bad ``sizes`` and log lines holding CR or LF;
            without it, sizes that do not add up are streamed as far as they
            go and such lines are written as they are.
    """
    app = FastAPI()
    app.include_router(gates.router)

    @app.get(CAPABILITIES_PATH)
    async def capabilities() -> dict[str, bool]:
        return {"text": True, "bytes": True, "log": True, "gates": True}

    def gate_for(request: Request, name: str | None) -> gates.Gate | Response | None:
        claimed = claim_or_refuse(request, name)
        if isinstance(claimed, gates.Gate) and not honour_gates:
            claimed.unlock()
        return claimed

    @app.get(TEXT_PATH)
    async def text(
        request: Request,
        chunks: str = Query("[]"),
        gate: str | None = Query(None),
        declare_length: bool = Query(False),
    ) -> Response:
        try:
            chosen = text_chunks_from_json(chunks)
        except ValueError as error:
            return PlainTextResponse(str(error), status_code=400)
        claimed = gate_for(request, gate)
        if isinstance(claimed, Response):
            return claimed
        headers = {}
        if declare_length:
            counted = count_length or (lambda texts: sum(len(t.encode()) for t in texts))
            headers["Content-Length"] = str(counted(chosen))
        produced = _as_bytes(gated(chosen, claimed, registry_of(request)))
        return DeliveredResponse(produced, deliver, "text/plain; charset=utf-8", headers)

    @app.post(BYTES_PATH)
    async def echo(
        request: Request, sizes: str = Query("[]"), gate: str | None = Query(None)
    ) -> Response:
        try:
            chosen = byte_sizes_from_json(sizes)
        except ValueError as error:
            return PlainTextResponse(str(error), status_code=400)
        body = await request.body()
        if check_input and sum(chosen) != len(body):
            return PlainTextResponse("sizes do not add up", status_code=400)
        claimed = gate_for(request, gate)
        if isinstance(claimed, Response):
            return claimed
        pieces, start = [], 0
        for size in chosen:
            pieces.append(body[start : start + size])
            start += size
        produced = gated(pieces, claimed, registry_of(request))
        return DeliveredResponse(produced, deliver, "application/octet-stream")

    @app.get(LOG_PATH)
    async def log(
        request: Request, lines: str = Query("[]"), gate: str | None = Query(None)
    ) -> Response:
        try:
            chosen = log_lines_from_json(lines) if check_input else text_chunks_from_json(lines)
        except ValueError as error:
            return PlainTextResponse(str(error), status_code=400)
        claimed = gate_for(request, gate)
        if isinstance(claimed, Response):
            return claimed
        produced = _as_bytes(gated([t + line_end for t in chosen], claimed, registry_of(request)))
        return DeliveredResponse(produced, deliver, "text/plain; charset=utf-8")

    return app


def _characters(texts: Iterable[str]) -> int:
    """``len(text)``: characters, not bytes (the classic Content-Length bug)."""
    return sum(len(text) for text in texts)


correct = chunking_app()
buffered_producer = chunking_app(buffered)
first_then_pairs_app = chunking_app(first_then_pairs)
lookahead_app = chunking_app(lookahead)
no_final = chunking_app(no_final_message)
two_finals = chunking_app(two_final_messages)
text_relay_app = chunking_app(text_relay)
length_in_characters = chunking_app(count_length=_characters)
log_published = chunking_app(line_end="n")
gate_ignored = chunking_app(honour_gates=False)
unchecked_input = chunking_app(check_input=False)

MUTANTS: dict[str, tuple[FastAPI, set[str]]] = {
    "buffered_producer": (
        buffered_producer,
        {"CHUNK-MSG-01", "CHUNK-FLOW-01", "CHUNK-FLOW-02", "CHUNK-LOG-01"},
    ),
    "first_then_pairs": (first_then_pairs_app, {"CHUNK-MSG-01", "CHUNK-FLOW-01", "CHUNK-LOG-01"}),
    "lookahead": (lookahead_app, {"CHUNK-MSG-01", "CHUNK-FLOW-01", "CHUNK-FLOW-02"}),
    "no_final": (no_final, {"CHUNK-MSG-02", "CHUNK-WIRE-01"}),
    "two_finals": (two_finals, {"CHUNK-MSG-02"}),
    "text_relay": (text_relay_app, {"CHUNK-REASM-01", "CHUNK-REASM-02"}),
    "length_in_characters": (length_in_characters, {"CHUNK-LENGTH-01"}),
    "log_published": (log_published, {"CHUNK-LOG-02"}),
}
"""``{name: (app, CHUNK rules it must fail)}``."""
