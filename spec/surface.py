"""The conformance surface: the HTTP endpoints a target exposes so the suite can drive it.

A server in any language is validated by implementing these endpoints; the
chapter "Conformance surface" of the spec (``spec/chapters/surface.py``) is
their normative description. This module is the suite's side of it: how a
request for a stream is written.

``GET /conformance/sse?events=JSON``
    Stream the events of ``JSON``, a list of objects with the optional
    members ``data`` (string), ``event`` (string), ``id`` (string), ``retry``
    (integer) and ``comment`` (string), each encoded as one event, then end the
    response. An event that cannot be encoded unaltered (see ``SSE-ENC-07``)
    must be refused, preferably with a 4xx status before the stream starts.

``GET /conformance/capabilities``
    A JSON object of booleans: which streams the target serves and which
    observations it offers (see :mod:`spec.capabilities`).

``GET /conformance/text?chunks=JSON``
    Stream the strings of ``JSON`` (a list of strings) as a
    ``text/plain; charset=utf-8`` body, each string encoded as UTF-8 and sent
    as it is produced, in order, then end the response.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from spec.sse import Event

SSE_PATH = "/conformance/sse"
TEXT_PATH = "/conformance/text"
CAPABILITIES_PATH = "/conformance/capabilities"


def event_to_json(event: Event) -> dict[str, Any]:
    """The surface's JSON form of *event*: its set members only."""
    members: dict[str, Any] = {"data": event.data}
    for name in ("event", "id", "retry", "comment"):
        value = getattr(event, name)
        if value is not None:
            members[name] = value
    return members


def event_from_json(members: object) -> Event:
    """Read one event of the surface's JSON form; raise ValueError on anything else."""
    if not isinstance(members, dict):
        raise ValueError("each event must be a JSON object")
    unknown = set(members) - {"data", "event", "id", "retry", "comment"}
    if unknown:
        raise ValueError(f"unknown event members: {sorted(unknown)}")
    for name in ("data", "event", "id", "comment"):
        if name in members and not isinstance(members[name], str):
            raise ValueError(f"{name} must be a string")
    retry = members.get("retry")
    if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int)):
        raise ValueError("retry must be an integer")
    return Event(
        data=members.get("data", ""),
        event=members.get("event"),
        id=members.get("id"),
        retry=retry,
        comment=members.get("comment"),
    )


def sse_params(events: Sequence[Event]) -> list[tuple[str, str]]:
    """Query parameters asking ``/conformance/sse`` to stream *events*."""
    return [("events", json.dumps([event_to_json(e) for e in events], ensure_ascii=False))]


def text_params(chunks: Sequence[str]) -> list[tuple[str, str]]:
    """Query parameters asking ``/conformance/text`` to stream *chunks*."""
    return [("chunks", json.dumps(list(chunks), ensure_ascii=False))]


def text_chunks_from_json(raw: str) -> list[str]:
    """Read the ``chunks`` parameter of ``/conformance/text``; raise ValueError on anything else."""
    try:
        chunks = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"chunks is not JSON: {error}") from None
    if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
        raise ValueError("chunks must be a JSON list of strings")
    return chunks
