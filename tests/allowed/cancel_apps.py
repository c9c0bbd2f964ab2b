"""The reference app with one choice the CANCEL chapter leaves open made the other way.

The spec allows both ways, so each passes the rules its choice touches, as the
reference does (``tests/test_cancel_fails.py``).

* ``unfinished_on_error``: when the producer raises mid-stream, the app returns
  without its final body message instead of raising (the server aborts the
  connection alike: the body is never completed).
* ``other_farewell``: on shutdown its streams end with ``data: bye`` (an event
  of the default type, no id, no retry) instead of the reference's
  ``event: shutdown``.
* ``big_feed``: its resumable feeds hold their last 1000 events, not 64 (the
  ``plain`` surface of ``tests/broken/cancel_apps.py``, whose feed is correct;
  its other streams are not).
"""

from __future__ import annotations

from impl.app import create_app
from impl.sse import SHUTDOWN_EVENT
from spec.sse import Event, encode
from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send
from tests.broken.cancel_apps import cancel_app


def _returning_on_error(app: ASGIApp) -> ASGIApp:
    """*app*, but an exception after the response started ends the call without a word."""

    async def returning(scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def noting(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, noting)
        except Exception:
            if not started:
                raise

    return returning


def _farewell(app: ASGIApp, farewell: bytes) -> ASGIApp:
    """*app*, its shutdown event replaced by *farewell*."""

    async def replacing(scope: Scope, receive: Receive, send: Send) -> None:
        async def replace(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body") == encode(
                SHUTDOWN_EVENT
            ):
                message = {**message, "body": farewell}
            await send(message)

        await app(scope, receive, replace)

    return replacing


unfinished_on_error = _returning_on_error(create_app())
other_farewell = _farewell(create_app(), encode(Event("bye")))
big_feed = cancel_app("plain", feed_capacity=1000)
