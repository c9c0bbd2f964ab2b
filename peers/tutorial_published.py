"""The source document's code as published (``../shared/seed``), its three cases wired to the kit.

The document is a FastAPI app with three streaming routes; this peer is that
app, its routes and their code as printed, and the kit's factories are
:func:`~spec.kit.routed` to them (each handler finds what the suite asked for
with :func:`~spec.kit.request_of`). Where the document streams a producer of
its own (twenty timestamped log lines, ten counter events, a fixed file), the
peer streams the kit's producer instead, through the document's framing and
headers:

* ``GET /logs/stream`` (case 1): ``StreamingResponse(log_generator(),
  media_type="text/plain", headers={"X-Stream-Id": "demo-log-stream",
  "Cache-Control": "no-cache"})``. Text chunks go out as the suite made them;
  a log line ends as the document ends its lines, ``f"...{line}n"``: the
  backslash of ``\\n`` was lost in publication, so no line ends.
* ``GET /events`` (case 2): the document's ``event_generator(request)``, which
  polls ``await request.is_disconnected()`` before each event and writes the
  framing by hand, as printed: ``f"data: {...}nn"``, and ``"event:
  ...ndata: ...nn"`` for a typed event (its ``"event: donendata: 流结束nn"``),
  so ``\\n\\n`` reads ``nn`` and no event is ever terminated; it writes no
  ``id:``, ``retry:`` or comment line. Headers ``Cache-Control: no-cache``,
  ``Connection: keep-alive``, ``X-Accel-Buffering: no``. It also streams the
  CANCEL chapter's endless producers (one event a line).
* ``GET /download/sample`` (case 3): ``file_size = os.path.getsize(file_path)``
  and ``open(file_path, "rb")`` with 1 MiB ``f.read`` calls inside the async
  generator (blocking calls on the event loop, as the document prints them),
  ``Content-Length`` from that size and ``Content-Disposition: attachment;
  filename="..."`` written with an f-string. The document serves one fixed
  path; the peer joins the requested name to the served root with
  ``os.path.join`` (the document resolves no name and checks none), and puts
  the name asked to be shown (else the requested name) where the document
  writes ``sample.dat``.

In the document each generator is its own producer; here, when the
document's generator ends (it returns, or is closed or cancelled), the kit's
producer is closed with it (:func:`ended`, the only wiring added), so that the
producer's cleanup reports what happened to the document's generator.

The routes are the document's ``@app.get``: FastAPI answers ``HEAD`` on them
with 405. What the document does not do, the peer does not declare: no
keep-alive (``SSE(keepalive=False)``), no comments, no custom headers; it
serves no echoed bytes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from spec.kit import (
    SSE,
    Download,
    DownloadRequest,
    Kit,
    SSERequest,
    Stream,
    StreamRequest,
    request_of,
    routed,
)
from spec.sse import Event

document = FastAPI()
"""The document's app (its three ``app = FastAPI()`` are one here)."""


async def ended(producer: object) -> None:
    """Wiring, not the document's: close the kit's *producer* once the document's generator ends.

    In the document the generator is its own producer, so when the generator
    stops (it returns, or is closed or cancelled) its producing has stopped:
    the kit's producer is closed then, and only then, so that its cleanup
    reports what happened to the document's generator.
    """
    aclose = getattr(producer, "aclose", None)
    if aclose is not None:
        await aclose()
    close = getattr(producer, "close", None)
    if close is not None:
        close()


# --- Case 1: the log stream ---------------------------------------------------------------


async def log_generator(request: Request) -> AsyncIterator[str | bytes]:
    """The document's generator, over the kit's chunks instead of its twenty log lines."""
    asked = request_of(request.scope)
    assert isinstance(asked, StreamRequest)
    body = asked.body
    assert isinstance(body, AsyncIterator)
    try:
        async for chunk in body:
            if asked.kind == "log" and isinstance(chunk, str):
                line = chunk.removesuffix("\n")
                # As printed: yield f"[{timestamp}] 日志条目 #{i+1}: 系统运行正常n"
                yield f"{line}n"
            else:
                yield chunk
    finally:
        await ended(body)


@document.get("/logs/stream")
async def stream_logs(request: Request) -> StreamingResponse:
    """返回流式日志响应"""
    return StreamingResponse(
        log_generator(request),
        media_type="text/plain",
        headers={
            "X-Stream-Id": "demo-log-stream",
            "Cache-Control": "no-cache",
        },
    )


# --- Case 2: Server-Sent Events ------------------------------------------------------------


async def next_event(events: AsyncIterator[Event] | Iterator[Event]) -> Event | None:
    """The kit's next event (where the document builds its ``data`` dict), ``None`` at the end."""
    if isinstance(events, AsyncIterator):
        return await anext(events, None)
    return next(events, None)


async def event_generator(request: Request) -> AsyncIterator[str]:
    """生成SSE事件流"""
    asked = request_of(request.scope)
    assert isinstance(asked, SSERequest)
    try:
        while True:
            # 检查客户端是否断开连接
            if await request.is_disconnected():
                break
            event = await next_event(asked.events)
            if event is None:
                break
            if event.event is not None:
                # As printed: yield "event: donendata: 流结束nn"
                yield f"event: {event.event}ndata: {event.data}nn"
            else:
                # As printed: yield f"data: {json.dumps(data)}nn"
                yield f"data: {event.data}nn"
    finally:
        await ended(asked.events)


@document.get("/events")
async def sse_endpoint(request: Request) -> StreamingResponse:
    return StreamingResponse(
        event_generator(request),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
            "X-Accel-Buffering": "no",  # 禁用Nginx缓冲
        },
    )


# --- Case 3: the file download -------------------------------------------------------------


async def file_chunk_generator(
    file_path: str, chunk_size: int = 1024 * 1024
) -> AsyncIterator[bytes]:
    """异步逐块读取文件"""
    # 这里用同步方式演示,生产环境建议 aiofiles
    with open(file_path, "rb") as f:  # noqa: ASYNC230 (the document's blocking read)
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                break
            yield chunk
            # 模拟异步让出控制权
            await asyncio.sleep(0)


@document.get("/download/sample")
async def download_sample(request: Request) -> StreamingResponse:
    asked = request_of(request.scope)
    assert isinstance(asked, DownloadRequest)
    file_path = os.path.join(asked.root, asked.name)  # the document: "large_sample.dat"
    filename = asked.filename or os.path.basename(asked.name)  # the document: "sample.dat"
    # 获取文件大小
    file_size = os.path.getsize(file_path)  # noqa: ASYNC240 (as printed)
    return StreamingResponse(
        file_chunk_generator(file_path),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(file_size),
        },
    )


app = Kit(
    sse=SSE(routed(document, "/events"), comments=False, keepalive=False, headers=False),
    stream=Stream(
        routed(document, "/logs/stream"), kinds=frozenset({"text", "log"}), headers=False
    ),
    download=Download(routed(document, "/download/sample")),
)
