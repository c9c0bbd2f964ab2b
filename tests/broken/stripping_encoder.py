"""An encoder that "cleans" an id or event type by stripping CR and LF instead of refusing it.

Everything else is the suite's own encoder. The stripped id names an event
the server never issued, so a client that reconnects with it resumes from the
wrong place.
"""

from __future__ import annotations

import dataclasses

from spec.sse import Event, encode
from tests.broken.surface_app import surface_app


def _strip(value: str | None) -> str | None:
    return None if value is None else value.replace("\r", "").replace("\n", "")


def stripping_encode(event: Event) -> bytes:
    return encode(dataclasses.replace(event, id=_strip(event.id), event=_strip(event.event)))


app = surface_app(stripping_encode)
