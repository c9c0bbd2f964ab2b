"""The surface's query parameters that more than one route reads: ``keepalive`` and ``events``.

Moved from the reference app (its ``impl/surface.py``): the kit refuses what
the reference refused, with the same 400s, before any factory is called.
"""

from __future__ import annotations

import json

from spec.sse import Event
from spec.sse.encoder import validate
from spec.surface import event_from_json, read_json

KEEPALIVE_MIN = 0.05
"""The shortest keep-alive interval ``keepalive=`` accepts, in seconds (0 means none)."""
KEEPALIVE_MAX = 3600.0
"""The longest keep-alive interval ``keepalive=`` accepts, in seconds."""


def keepalive(raw: str) -> float:
    """``keepalive=SECONDS`` read: 0 (no comments) or a finite number in
    ``[KEEPALIVE_MIN, KEEPALIVE_MAX]``; anything else (``inf``, ``nan``, ``1e-300``, not a
    number) raises ``ValueError``, which the route answers with 400."""
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"keepalive is not a number: {raw[:40]!r}") from None
    if seconds == 0 or KEEPALIVE_MIN <= seconds <= KEEPALIVE_MAX:
        return seconds
    raise ValueError(f"keepalive must be 0 or between {KEEPALIVE_MIN} and {KEEPALIVE_MAX} seconds")


def read_events(raw: str) -> list[Event]:
    """The ``events`` parameter: a JSON list of events, each one the encoder can write
    unaltered; ``ValueError`` (a 400) otherwise."""
    try:
        members = read_json(raw, "events")
    except json.JSONDecodeError as error:
        raise ValueError(f"events is not JSON: {error}") from None
    if not isinstance(members, list):
        raise ValueError("events must be a JSON list")
    events = [event_from_json(item) for item in members]
    for event in events:
        validate(event)
    return events
