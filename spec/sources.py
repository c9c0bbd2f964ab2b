"""The documents several chapters cite, declared once: ``Source`` records for rules."""

from __future__ import annotations

from spec.rules import Source

_SSE = "https://html.spec.whatwg.org/multipage/server-sent-events.html"
_ASGI = "https://asgi.readthedocs.io/en/latest/specs/www.html"

SSE_EVENTSOURCE = Source(
    "WHATWG HTML", "9.2.2 The EventSource interface", f"{_SSE}#the-eventsource-interface"
)
SSE_PROCESSING = Source("WHATWG HTML", "9.2.3 Processing model", f"{_SSE}#sse-processing-model")
SSE_REESTABLISH = Source(
    "WHATWG HTML",
    "9.2.3 Processing model: reestablish the connection",
    f"{_SSE}#reestablish-the-connection",
)
SSE_LAST_EVENT_ID = Source(
    "WHATWG HTML", "9.2.4 The Last-Event-ID header", f"{_SSE}#the-last-event-id-header"
)
SSE_PARSING = Source(
    "WHATWG HTML", "9.2.5 Parsing an event stream", f"{_SSE}#parsing-an-event-stream"
)
SSE_INTERPRETING = Source(
    "WHATWG HTML", "9.2.6 Interpreting an event stream", f"{_SSE}#event-stream-interpretation"
)
SSE_DISPATCH = Source(
    "WHATWG HTML", "9.2.6 Interpreting an event stream", f"{_SSE}#dispatchMessage"
)
SSE_AUTHORING = Source("WHATWG HTML", "9.2.7 Authoring notes", f"{_SSE}#authoring-notes")

ASGI_BODY = Source(
    "ASGI HTTP spec", "Response Body - send event", f"{_ASGI}#response-body-send-event"
)
ASGI_DISCONNECT = Source(
    "ASGI HTTP spec", "2.4 Disconnected Client", f"{_ASGI}#disconnected-client"
)

CHUNKED = Source(
    "RFC 9112", "7.1 Chunked Transfer Coding", "https://www.rfc-editor.org/rfc/rfc9112#section-7.1"
)

# The document the project grew from is not published with it: these link to the
# rendered spec's paragraph that names it.
TUTORIAL_WHY = Source("the streaming tutorial", "1 Why stream: time to first byte", "#sources")
TUTORIAL_LOG = Source("the streaming tutorial", "3 Case 1: text stream", "#sources")
