"""Read the conformance surface's request parameters (JSON in the query string).

Shared by the peers so each adapter is only its library's streaming code. The
parsing is the suite's own (:mod:`spec.surface`): it writes nothing to the wire.
"""

from __future__ import annotations

import json

from spec.sse import Event
from spec.surface import event_from_json, text_chunks_from_json

__all__ = ["Event", "MalformedRequest", "read_chunks", "read_events"]


class MalformedRequest(ValueError):
    """The parameter is not what the surface accepts: the peer answers 400."""


def read_events(raw: str | None) -> list[Event]:
    """The events of ``/conformance/sse?events=JSON``; raise :class:`MalformedRequest`."""
    try:
        members = json.loads(raw if raw is not None else "[]")
    except ValueError as error:
        raise MalformedRequest(f"events is not JSON: {error}") from None
    if not isinstance(members, list):
        raise MalformedRequest("events must be a JSON list")
    try:
        return [event_from_json(member) for member in members]
    except ValueError as error:
        raise MalformedRequest(str(error)) from None


def read_chunks(raw: str | None) -> list[str]:
    """The strings of ``/conformance/text?chunks=JSON``; raise :class:`MalformedRequest`."""
    try:
        return text_chunks_from_json(raw if raw is not None else "[]")
    except ValueError as error:
        raise MalformedRequest(str(error)) from None
