"""The demo's ``/events`` and its page, each broken in one way, for the browser checks.

Each is the reference app (built with the caller's settings) behind one small
ASGI middleware that does one thing a real server or front-end gets wrong:

* ``ignoring_last_event_id``: the server never sees ``Last-Event-ID`` (a proxy
  or framework that drops it), so each reconnection starts the stream over;
* ``without_ids``: the events carry no ``id:``, so the browser has no last
  event ID to send and the server starts over;
* ``streaming_instead_of_204``: a client that has everything gets an empty
  200 stream instead of 204, so the browser reconnects for ever;
* ``onmessage_page``: the page listens with ``onmessage`` only, as the source
  document's front-end does, so the custom type ``done`` never reaches it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import HTMLResponse

from spec.targets.asgi_types import ASGIApp, Message, Receive, Scope, Send

Breaking = Callable[[ASGIApp], ASGIApp]

_STREAM_PATH = "/events"
_PAGE_PATH = "/events/page"

# The reference page's DOM (state, connections, table), with onmessage alone.
_ONMESSAGE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>onmessage only</title></head>
<body>
<p><span id="state" data-ready-state="0">connecting</span> <span id="opens">0</span></p>
<table id="events"><tbody></tbody></table>
<script>
const source = new EventSource("/events");
const state = document.getElementById("state");
const opens = document.getElementById("opens");
function show(text) {
  state.textContent = text;
  state.dataset.readyState = String(source.readyState);
}
source.onopen = () => {
  opens.textContent = String(Number(opens.textContent) + 1);
  show("open");
};
source.onmessage = (event) => {
  const row = document.querySelector("#events tbody").insertRow();
  for (const value of [event.type, event.lastEventId, event.data]) {
    row.insertCell().textContent = value;
  }
};
source.onerror = () => show(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
</script>
</body></html>
"""


def ignoring_last_event_id(app: ASGIApp) -> ASGIApp:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"last-event-id"]
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return broken


def without_ids(app: ASGIApp) -> ASGIApp:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != _STREAM_PATH:
            await app(scope, receive, send)
            return

        async def strip_ids(message: Message) -> None:
            if message["type"] == "http.response.body":
                lines = message.get("body", b"").split(b"\n")
                body = b"\n".join(line for line in lines if not line.startswith(b"id:"))
                message = {**message, "body": body}
            await send(message)

        await app(scope, receive, strip_ids)

    return broken


def streaming_instead_of_204(app: ASGIApp) -> ASGIApp:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != _STREAM_PATH:
            await app(scope, receive, send)
            return

        async def as_empty_stream(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 204:
                headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
                message = {**message, "status": 200, "headers": headers}
            await send(message)

        await app(scope, receive, as_empty_stream)

    return broken


def onmessage_page(app: ASGIApp) -> ASGIApp:
    page = HTMLResponse(_ONMESSAGE_PAGE)

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == _PAGE_PATH:
            await page(scope, receive, send)
        else:
            await app(scope, receive, send)

    return broken
