"""The source document's SSE code with its newlines restored: ``f"data: {x}\\n\\n"`` by hand.

Correct for one-line data, wrong as soon as the data holds a line break: the
client reads the second line as a field of its own (or, after a blank line, as
the end of the event).
"""

from __future__ import annotations

from spec.sse import Event
from tests.broken.surface_app import surface_app


def handmade_framing(event: Event) -> str:
    text = ""
    if event.id is not None:
        text += f"id: {event.id}\n"
    if event.event is not None:
        text += f"event: {event.event}\n"
    if event.retry is not None:
        text += f"retry: {event.retry}\n"
    return text + f"data: {event.data}\n\n"


app = surface_app(handmade_framing)
