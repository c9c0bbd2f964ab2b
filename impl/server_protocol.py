"""uvicorn's h11 protocol with a deadline for each request's head: :class:`HeadTimeoutH11Protocol`.

uvicorn closes a kept-alive connection that stays silent after a response
(``--timeout-keep-alive``), but has no timeout at all for a request's head:
a connection that sends nothing, or that sends one byte of its head every few
seconds (a slow-loris), stays open for ever, and each one holds a socket, a
file descriptor and a protocol object (issue 14, reproduction 12: 100 silent
connections and 100 trickling ones were all open 40 s later). Any byte
resets the keep-alive timer, so a trickle defeats that one too.

This protocol gives every head a deadline: from the moment the connection
waits for a request (it was opened, or its previous response ended) the
whole head must have arrived within :attr:`~HeadTimeoutH11Protocol.head_timeout`
seconds, however its bytes are spaced; otherwise the connection is closed
(nothing is answered: no request was read to answer). Once the head is in,
the deadline is gone: a slow request body and a response that streams for
hours are not cut by it (the app's send timeout and the client's own
departure bound those).

Served by uvicorn's command line as ``--http impl.server_protocol:HeadTimeoutH11Protocol``
(uvicorn takes an import string for its HTTP protocol); the deadline is
:class:`impl.settings.ServerSettings`' ``head_timeout`` (``STREAMSPEC_HEAD_TIMEOUT``),
and :func:`with_head_timeout` makes a protocol class with another one.

Written by hand: neither uvicorn nor h11 has a head deadline (h11 is sans-IO,
it has no clock; uvicorn has only the keep-alive timer).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from impl.settings import ServerSettings


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's ``H11Protocol``, closing a connection whose head is late (module docstring)."""

    head_timeout: float = ServerSettings.from_environment().head_timeout
    """Seconds a request's whole head may take, from when the connection waits for it."""

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # the head is in (or the request failed)
            self._disarm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start the next cycle and read a pipelined head
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_deadline()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        self.logger.debug(
            "Closing a connection whose request head took over %gs", self.head_timeout
        )
        self.transport.close()


def with_head_timeout(seconds: float) -> type[HeadTimeoutH11Protocol]:
    """A :class:`HeadTimeoutH11Protocol` whose heads have *seconds* to arrive
    (for ``uvicorn.Config(http=...)``, which takes a class too)."""
    if not seconds > 0:
        raise ValueError(f"head_timeout must be > 0 s, not {seconds}")
    return type("HeadTimeoutH11Protocol", (HeadTimeoutH11Protocol,), {"head_timeout": seconds})
