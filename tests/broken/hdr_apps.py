"""The reference app broken in one header or transfer detail each, for the HDR chapter.

Each is ``create_app()`` behind one small ASGI middleware that does one thing
a real app or middleware gets wrong, so it differs from a correct target in
that alone. Module-level names are targets for ``--target=tests.broken.hdr_apps:NAME``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.datastructures import MutableHeaders

from impl.app import create_app
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send

Edit = Callable[[Message], Message | None]


def _media_type(message: Message) -> str:
    headers = MutableHeaders(raw=message.setdefault("headers", []))
    return headers.get("content-type", "").split(";")[0].strip().lower()


def edit_start(app: ASGIApp, edit: Callable[[Scope, Message], None]) -> ASGIApp:
    """*app* with ``edit(scope, start message)`` applied to every ``http.response.start``."""

    async def edited(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                edit(scope, message)
            await send(message)

        await app(scope, receive, send_edited)

    return edited


def _on(media_type: str, change: Callable[[MutableHeaders, Message], None]) -> ASGIApp:
    def edit(scope: Scope, message: Message) -> None:
        if _media_type(message) == media_type:
            change(MutableHeaders(raw=message["headers"]), message)

    return edit_start(create_app(), edit)


def _del(name: str) -> Callable[[MutableHeaders, Message], None]:
    def change(headers: MutableHeaders, message: Message) -> None:
        del headers[name]

    return change


def _set(name: str, value: str) -> Callable[[MutableHeaders, Message], None]:
    def change(headers: MutableHeaders, message: Message) -> None:
        headers[name] = value

    return change


def _status(code: int) -> Callable[[MutableHeaders, Message], None]:
    def change(headers: MutableHeaders, message: Message) -> None:
        message["status"] = code

    return change


no_accel = _on("text/event-stream", _del("x-accel-buffering"))
"""The event stream without ``X-Accel-Buffering: no`` (the source document's header forgotten)."""

wrong_charset = _on(
    "text/event-stream", _set("content-type", "text/event-stream; charset=iso-8859-1")
)
"""The event stream labelled Latin-1."""

cacheable_sse = _on("text/event-stream", _set("cache-control", "public, max-age=60"))
"""The event stream marked cacheable for a minute."""

sse_status_203 = _on("text/event-stream", _status(203))
"""The event stream answered 203 Non-Authoritative Information instead of 200."""

text_without_charset = _on("text/plain", _set("content-type", "text/plain"))
"""The text stream as bare ``text/plain`` (US-ASCII by default)."""

text_sniffable = _on("text/plain", _del("x-content-type-options"))
"""The text stream without ``X-Content-Type-Options: nosniff``."""


def _keep_only_known(scope: Scope, message: Message) -> None:
    known = {b"content-type", b"cache-control", b"x-accel-buffering", b"x-content-type-options"}
    message["headers"] = [(k, v) for k, v in message.get("headers", []) if k.lower() in known]


drops_custom_headers = edit_start(create_app(), _keep_only_known)
"""A middleware that rebuilds responses with the headers it knows, dropping X-Stream-Id."""


def stop_as_empty_stream(app: ASGIApp) -> ASGIApp:
    """``/conformance/sse/stop`` answered 200 with an empty event stream (clients reconnect)."""

    async def stop(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/conformance/sse/stop":
            headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return stop


stop_as_200 = stop_as_empty_stream(create_app())


def echo_headers_unchecked(app: ASGIApp) -> ASGIApp:
    """Custom headers asked for are echoed as given, CR and LF included (header injection)."""

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        asked = dict(query).get("headers")
        if scope["type"] != "http" or asked is None:
            await app(scope, receive, send)
            return
        raw = json.loads(asked)
        rest = [(k, v) for k, v in query if k != "headers"]
        inner = {**scope, "query_string": urlencode(rest).encode("latin-1")}

        async def send_echoing(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in raw.items()]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await app(inner, receive, send_echoing)

    return echo


echoes_headers = echo_headers_unchecked(create_app())


def buffered_with_length(app: ASGIApp, media_type: str) -> ASGIApp:
    """Responses of *media_type* collected whole, then sent with a Content-Length (not streamed)."""

    async def buffered(scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        body = bytearray()

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _media_type(message) != media_type:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                MutableHeaders(raw=start["headers"])["content-length"] = str(len(body))
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body)})

        await app(scope, receive, collect)

    return buffered


sse_content_length = buffered_with_length(create_app(), "text/event-stream")
"""The event stream rendered whole and sent with a Content-Length."""

text_content_length = buffered_with_length(create_app(), "text/plain")
"""The text stream rendered whole and sent with a Content-Length."""


def unflushed_gzip(app: ASGIApp, media_type: str) -> ASGIApp:
    """Responses of *media_type* gzip-compressed with one compressor, never flushed mid-stream.

    Older compressing middleware did this: each body message goes into the
    compressor, and what comes out is sent, but zlib keeps small inputs until
    it has a block's worth, so the client gets the events in lumps.
    """

    async def compressing(scope: Scope, receive: Receive, send: Send) -> None:
        accept = dict(scope.get("headers", [])).get(b"accept-encoding", b"")
        compressor: zlib._Compress | None = None

        async def send_compressed(message: Message) -> None:
            nonlocal compressor
            if message["type"] == "http.response.start":
                if b"gzip" in accept and _media_type(message) == media_type:
                    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                    headers = MutableHeaders(raw=message["headers"])
                    headers["content-encoding"] = "gzip"
                    del headers["content-length"]
            elif message["type"] == "http.response.body" and compressor is not None:
                body = compressor.compress(message.get("body", b""))
                if not message.get("more_body", False):
                    body += compressor.flush()
                message = {**message, "body": body}
            await send(message)

        await app(scope, receive, send_compressed)

    return compressing


compressed_sse = unflushed_gzip(create_app(), "text/event-stream")
"""The event stream gzip-compressed without a flush per event."""

compressed_text = unflushed_gzip(create_app(), "text/plain")
"""The text stream gzip-compressed without a flush per chunk."""


def never_ends(app: ASGIApp) -> ASGIApp:
    """The final body message turned into one that promises more: the last chunk never comes."""

    async def unfinished(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_unfinished(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                message = {**message, "more_body": True}
            await send(message)

        await app(scope, receive, send_unfinished)

    return unfinished


no_final_chunk = never_ends(create_app())


def deaf(app: ASGIApp) -> ASGIApp:
    """``receive`` never reports the disconnect: the app cannot learn that its client left."""

    async def unhearing(scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_no_disconnect() -> Message:
            message = await receive()
            while message["type"] == "http.disconnect":
                await anyio.sleep_forever()
            return message

        await app(scope, receive_no_disconnect, send)

    return unhearing


deaf_to_disconnect = deaf(create_app())
