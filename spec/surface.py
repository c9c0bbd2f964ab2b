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
    Optional: ``gate`` (an event a chunk) and ``headers`` (custom response
    headers, see ``spec/surface_hdr.py``), as on ``/conformance/text``.

``GET /conformance/text?chunks=JSON``
    Stream the strings of ``JSON`` (a list of strings) as a
    ``text/plain; charset=utf-8`` body, each string encoded as UTF-8 and sent
    as it is produced, in order, then end the response. Optional:
    ``gate=NAME`` (see below), ``headers=JSON`` and ``declare_length=true``
    (declare the body's length in ``Content-Length``).

``POST /conformance/bytes?sizes=JSON``
    Stream the request body back as ``application/octet-stream``, cut into
    chunks of the sizes in ``JSON`` (a list of integers >= 0 adding up to the
    body's length), each sent as it is produced, in order. Optional: ``gate``.

``GET /conformance/log?lines=JSON``
    Stream a text log: each string of ``JSON`` (a list of strings without CR
    or LF) as one line, the string followed by a line feed, one line a chunk,
    as it is produced. Optional: ``gate``.

``gate=NAME`` and ``/conformance/gates/NAME``
    A stream requested with ``gate=NAME`` makes its first chunk at once and
    waits at the gate before each further chunk (with ``gate_first=true``,
    before its first chunk too, its headers sent). ``POST .../NAME/wait``
    answers ``{"waiting": bool, "produced": int}`` once the producer waits
    there (or its stream has ended); ``POST .../NAME/open`` lets it make one
    more chunk; ``DELETE .../NAME`` opens the gate for good.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from spec.sse import Event

SSE_PATH = "/conformance/sse"
TEXT_PATH = "/conformance/text"
ENDLESS_PATH = "/conformance/endless"
OBSERVE_PATH = "/conformance/observe"
FEED_PATH = "/conformance/feed"
BYTES_PATH = "/conformance/bytes"
LOG_PATH = "/conformance/log"
GATES_PATH = "/conformance/gates"


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


def bytes_params(sizes: Sequence[int]) -> list[tuple[str, str]]:
    """Query parameters asking ``/conformance/bytes`` to cut its body into chunks of *sizes*."""
    return [("sizes", json.dumps(list(sizes)))]


def byte_sizes_from_json(raw: str) -> list[int]:
    """Read the ``sizes`` parameter of ``/conformance/bytes``; raise ValueError on anything else."""
    try:
        sizes = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"sizes is not JSON: {error}") from None
    if not isinstance(sizes, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes
    ):
        raise ValueError("sizes must be a JSON list of integers >= 0")
    return sizes


def log_params(lines: Sequence[str]) -> list[tuple[str, str]]:
    """Query parameters asking ``/conformance/log`` to stream *lines*."""
    return [("lines", json.dumps(list(lines), ensure_ascii=False))]


def log_lines_from_json(raw: str) -> list[str]:
    """Read the ``lines`` parameter of ``/conformance/log``; raise ValueError on anything else."""
    try:
        lines = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"lines is not JSON: {error}") from None
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise ValueError("lines must be a JSON list of strings")
    if any("\r" in line or "\n" in line for line in lines):
        raise ValueError("a log line must not contain CR or LF")
    return lines


def gate_path(name: str, action: str = "") -> str:
    """The control path of gate *name*: ``/conformance/gates/NAME[/ACTION]``."""
    return f"{GATES_PATH}/{name}" + (f"/{action}" if action else "")
