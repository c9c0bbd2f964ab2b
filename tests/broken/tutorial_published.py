"""The source document's SSE code as published, its backslashes lost: ``"data: {...}nn"``.

The tutorial meant ``\\n\\n``; the text that reached readers says ``nn``. Copied
as printed, no event is ever terminated and an ``EventSource`` dispatches
nothing. The route below is the tutorial's framing applied to the events the
suite asks for.
"""

from __future__ import annotations

from spec.sse import Event
from tests.broken.surface_app import surface_app


def tutorial_framing(event: Event) -> str:
    # As printed: yield f"data: {json.dumps(data)}nn" and "event: donendata: 流结束nn"
    if event.event:
        return f"event: {event.event}ndata: {event.data}nn"
    return f"data: {event.data}nn"


app = surface_app(tutorial_framing)
