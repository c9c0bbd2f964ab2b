"""Drive an ASGI app at the message level and record everything it sends.

httpx's ``ASGITransport`` and Starlette's ``TestClient`` collect the whole body
before they return, so they cannot show how a body is cut into messages, cannot
read an endless stream and cannot say "the client is gone" at a chosen moment.
This harness can: it plays the server's side of one HTTP request, records every
``http.response.start`` and ``http.response.body`` message in order (with its
``more_body`` flag), hands the body messages to the check as they are sent, and
delivers ``http.disconnect`` when the check says so.

Written by hand because no maintained library offers a streaming, disconnecting
ASGI client; it follows the ASGI HTTP spec (version 2.4) and nothing more.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from spec import patience, witness
from spec.targets.asgi_types import ASGIApp, Message, Scope


class ProtocolError(AssertionError):
    """The app broke the ASGI HTTP message sequence."""


class ClientDisconnected(OSError):
    """Raised by ``send`` after a disconnect when the harness models ASGI 2.4 servers."""


@dataclass
class Exchange:
    """One request played against the app, seen from the server's side.

    Attributes:
        messages: every message the app sent, in order.
        app_done: set when the app's call has returned or raised.
        app_error: what the app raised, if it did.
        sends_after_disconnect: how many messages the app sent after it was told
            the client had gone.
        body_messages_at_disconnect: how many body messages the app had sent
            when the disconnect was delivered.
        receive_calls: how many times the app called ``receive``.
        send_blocked: set the first time ``send`` has to wait for the reader.
    """

    messages: list[Message] = field(default_factory=list)
    app_done: anyio.Event = field(default_factory=anyio.Event)
    app_error: BaseException | None = None
    sends_after_disconnect: int = 0
    body_messages_at_disconnect: int | None = None
    receive_calls: int = 0
    send_blocked: anyio.Event = field(default_factory=anyio.Event)
    _disconnected: anyio.Event = field(default_factory=anyio.Event)
    _receive_ends: anyio.Event = field(default_factory=anyio.Event)
    _started: anyio.Event = field(default_factory=anyio.Event)
    _body_out: MemoryObjectReceiveStream[Message] | None = None

    @property
    def start(self) -> Message:
        """The ``http.response.start`` message (only after :meth:`wait_start`)."""
        return self.messages[0]

    @property
    def status(self) -> int:
        return int(self.start["status"])

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Response headers, names lower-cased, decoded as Latin-1 as HTTP/1.1 carries them."""
        return [
            (bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1"))
            for name, value in self.start.get("headers", [])
        ]

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(bytes(m.get("body", b"")) for m in self.body_messages)

    async def wait_start(self) -> None:
        """Wait for ``http.response.start``; raise if the app ends without sending it."""
        async with anyio.create_task_group() as group:

            async def stop_when_done() -> None:
                await self.app_done.wait()
                group.cancel_scope.cancel()

            group.start_soon(stop_when_done)
            await self._started.wait()
            group.cancel_scope.cancel()
        if not self._started.is_set():
            raise ProtocolError(f"the app returned without starting a response: {self.app_error!r}")

    async def iter_body(self) -> AsyncIterator[Message]:
        """Yield each ``http.response.body`` message as the app sends it, up to the last."""
        assert self._body_out is not None
        async for message in self._body_out:
            yield message

    def disconnect(self) -> None:
        """Tell the app the client has gone: ``receive`` returns ``http.disconnect`` from now on."""
        if not self._disconnected.is_set():
            self.body_messages_at_disconnect = len(self.body_messages)
        self._disconnected.set()
        self._receive_ends.set()

    @property
    def disconnected(self) -> bool:
        return self._disconnected.is_set()


SendAfterDisconnect = Literal["ignore", "raise"]


def build_scope(
    method: str,
    path: str,
    *,
    params: Sequence[tuple[str, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
    http_version: str = "1.1",
    spec_version: str = "2.3",
    prefix: str = "",
) -> Scope:
    """Return an ASGI HTTP scope for a request from 127.0.0.1.

    The default ``spec_version`` is uvicorn's: 2.3, whose ``send`` does not
    raise after a disconnect (pair "2.4" with ``send_after_disconnect="raise"``).

    *prefix* is the target's base path (``/base``): the scope's ``path`` and
    ``raw_path`` are *path* below it, as the request line of the same request
    on the wire names it, and ``root_path`` stays ``""``, as the suite's own
    uvicorn (which serves the app at the root, no ``--root-path``) sets it. The
    app routes the prefix itself, so the two transports hand it the same scope.
    (A ``root_path`` of ``/base`` would tell the app it is already mounted
    there: Starlette routes ``get_route_path(scope)``, the path with
    ``root_path`` removed, and an app that mounts its surface at ``/base``
    would then answer 404.)
    """
    query = urlencode(list(params)).encode("ascii")
    path = prefix + path
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": http_version,
        "method": method.upper(),
        "scheme": "http",
        "path": path,
        "raw_path": quote(path).encode("ascii"),
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


class _ServerSide:
    """The ``receive`` and ``send`` callables one request hands the app."""

    def __init__(
        self,
        state: Exchange,
        body: bytes,
        send_after_disconnect: SendAfterDisconnect,
        body_in: MemoryObjectSendStream[Message],
        disconnect_after: int | None = None,
        *,
        path: str = "",
    ) -> None:
        self.path = path
        self.disconnect_after = disconnect_after
        self.state = state
        self.request_body = body
        self.send_after_disconnect = send_after_disconnect
        self.body_in = body_in
        self.request_sent = False
        self.finished = False

    async def receive(self) -> Message:
        self.state.receive_calls += 1
        if not self.request_sent:
            self.request_sent = True
            return {"type": "http.request", "body": self.request_body, "more_body": False}
        # As uvicorn does, receive answers http.disconnect once the client has
        # gone or the response is complete, whichever comes first.
        await self.state._receive_ends.wait()
        return {"type": "http.disconnect"}

    def _gone(self) -> None:
        self.state.sends_after_disconnect += 1
        if self.send_after_disconnect == "raise":
            raise ClientDisconnected("the client has disconnected")

    async def send(self, message: Message) -> None:
        state = self.state
        if state.disconnected:
            self._gone()
            return
        kind = message.get("type")
        if kind == "http.response.start":
            if state._started.is_set():
                raise ProtocolError("http.response.start sent twice")
            state.messages.append(dict(message))
            state._started.set()
            witness.record(self.path, int(message.get("status", 0)))
        elif kind == "http.response.body":
            await self._send_body(message)
        else:
            raise ProtocolError(f"unexpected message type {kind!r}")

    async def _send_body(self, message: Message) -> None:
        if not self.state._started.is_set():
            raise ProtocolError("http.response.body before http.response.start")
        if self.finished:
            raise ProtocolError("http.response.body after the final body message")
        recorded = dict(message)
        self.state.messages.append(recorded)
        self.finished = not message.get("more_body", False)
        if (
            self.disconnect_after is not None
            and len(self.state.body_messages) >= self.disconnect_after
        ):
            self.state.disconnect()
        try:
            # Like a server writing to a socket with room in its buffer, send
            # returns without suspending unless the reader is behind.
            try:
                self.body_in.send_nowait(recorded)
            except anyio.WouldBlock:
                self.state.send_blocked.set()
                await self.body_in.send(recorded)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            # The check stopped reading: the client went away while send waited.
            self._gone()
            return
        if self.finished:
            self.state._receive_ends.set()
            await self.body_in.aclose()


@asynccontextmanager
async def exchange(
    app: ASGIApp,
    scope: Scope,
    *,
    body: bytes = b"",
    send_after_disconnect: SendAfterDisconnect = "ignore",
    body_buffer: float = math.inf,
    disconnect_after: int | None = None,
) -> AsyncIterator[Exchange]:
    """Run *app* for one request while the block runs; disconnect and wait for it on exit.

    Args:
        send_after_disconnect: what ``send`` does once the client has gone:
            ``"ignore"`` returns silently, as uvicorn does; ``"raise"`` raises
            :class:`ClientDisconnected`, as ASGI 2.4 recommends.
        body_buffer: how many body messages ``send`` queues before it blocks
            until the check reads one: ``0`` models a client that reads nothing
            until asked, ``inf`` one that never pushes back.
        disconnect_after: the client leaves as soon as the app has sent this
            many body messages, without the check having to run (an app that
            never yields gives it no chance to).

    On leaving the block the client disconnects (if it has not) and the app
    gets the chance to finish; an app that outlives its disconnect by more than
    the hang guard fails the check with :class:`ProtocolError`.
    """
    state = Exchange()
    body_in, body_out = anyio.create_memory_object_stream[Message](body_buffer)
    state._body_out = body_out
    path = str(scope.get("path", ""))
    server = _ServerSide(state, body, send_after_disconnect, body_in, disconnect_after, path=path)

    async def run_app() -> None:
        try:
            await app(scope, server.receive, server.send)
        except Exception as error:  # recorded for the check to judge
            state.app_error = error
        finally:
            state.app_done.set()
            await body_in.aclose()

    # Errors of the check's block are re-raised after the task group, so that
    # they reach the check as they are, not wrapped in an ExceptionGroup.
    block_error: Exception | None = None
    hung = False
    async with anyio.create_task_group() as group:
        group.start_soon(run_app)
        try:
            yield state
        except Exception as error:
            block_error = error
        finally:
            state.disconnect()
            body_out.close()
            allowed = patience.allowed(_HANG_GUARD_SECONDS, "outlives")
            with anyio.move_on_after(allowed):
                await state.app_done.wait()
            if not state.app_done.is_set():
                hung = True
                patience.record_stall(
                    "outlives", "the end of the app's call after the client disconnected"
                )
                group.cancel_scope.cancel()
    if block_error is not None:
        raise block_error
    if hung:
        raise ProtocolError(f"the app still runs {allowed:g} s after the client disconnected")


_HANG_GUARD_SECONDS = 10.0
