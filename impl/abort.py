"""Abort, not close, a connection whose response the app did not complete: :func:`aborting`.

ASGI gives an app no way to abort a connection: an app that raises, or returns
with its body unfinished, leaves the close to the server, and uvicorn closes
gracefully (``transport.close()``), which waits to flush the transport's
write buffer first. For a client that has stopped reading, that is for ever:
the connection, its buffered bytes (a whole 1 MiB item, a whole 8 MiB echo)
and the server's shutdown, which waits for every connection to be gone, are
held until the client resets; and a client that reads again later gets the
data of a stream that was abandoned long before (issue 14, reproductions 6
and 7).

:func:`aborting` wraps an ASGI app: when a response was started and its call
ends without the final body message (a send timeout, a shutdown that could
not deliver its farewell, a producer's error), it resets the connection
(``SO_LINGER`` 0, then ``transport.abort()``: a TCP RST, the buffers
dropped, the connection gone from the server at once). A send timeout
(:class:`~impl.streaming.SlowClient`, :class:`~impl.download.SlowDownload`)
ends there: the reset is its whole answer, and the server is not handed an
application error to log. It reaches the
transport through the server's ``send`` when that is a bound method of an
object with a ``transport`` (uvicorn's h11 and httptools cycles); under any
other server it does nothing, and the close stays the server's. So it must be
the outermost app: below a middleware that wraps ``send`` (Starlette's
``ServerErrorMiddleware``, which every Starlette app has) it finds no transport
and does nothing. An app that mounts the reference wraps itself
(``aborting(Starlette(routes=[Mount("/base", app=reference)]))``; the
reference's own wrapper then stands aside).

Written by hand: no server or library offers this to an ASGI app.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from impl.download import SlowDownload
from impl.streaming import SlowClient

_LINGER_ZERO = struct.pack("ii", 1, 0)


def transport_of(send: Send) -> Any | None:
    """The asyncio transport behind the server's *send*, or ``None`` if it has none in reach."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if callable(getattr(transport, "abort", None)) else None


def reset(transport: Any) -> None:
    """Reset the connection of *transport*: RST, whatever was buffered dropped (once: a
    transport already closing is left alone)."""
    if transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the peer: nothing to reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    transport.abort()


class Aborting:
    """*app*, whose unfinished responses end with the connection reset (module docstring).

    ``wrapped`` is the app it wraps; every other attribute is the wrapped app's (the
    kit's ``gates``, its ``app``, ...), so that the wrapper is transparent to its callers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.wrapped = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = transport_of(send) if scope["type"] == "http" else None
        if transport is None:
            await self.wrapped(scope, receive, send)
            return
        started = complete = False

        async def watched(message: Message) -> None:
            nonlocal started, complete
            started = started or message["type"] == "http.response.start"
            await send(message)
            final_body = message["type"] == "http.response.body" and not message.get("more_body")
            if final_body or message["type"] == "http.response.pathsend":  # the server sends all
                complete = True  # only once the server took it: a final send cut short is not

        try:
            await self.wrapped(scope, receive, watched)
        except (SlowClient, SlowDownload):
            if complete or not started:
                raise
            # The reset is the whole answer to a client that stopped reading: no application
            # error for the server to log. One turn of the loop lets the server see the
            # connection lost, so that it does not log an incomplete response either.
            reset(transport)
            await asyncio.sleep(0)
        finally:
            if started and not complete:
                reset(transport)


aborting = Aborting
"""Wrap an app so that its unfinished responses reset their connections."""
