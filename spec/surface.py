"""The conformance surface: the HTTP endpoints a target exposes so the suite can drive it.

A server in any language is validated by implementing these endpoints; the
chapter "Conformance surface" of the spec (``spec/chapters/surface.py``) is
their normative description. This module is the suite's side of it: how a
request for a stream is written.

``GET /conformance/sse?events=JSON``
    Stream the events of ``JSON``, a list of objects with the optional
    members ``data`` (string), ``event`` (string), ``id`` (string), ``retry``
    (integer >= 0) and ``comment`` (string), each encoded as one event, then end the
    response. An event that cannot be encoded unaltered (see ``SSE-ENC-07``)
    must be refused, preferably with a 4xx status before the stream starts.
    Optional: ``gate`` (an event a chunk) and ``headers`` (custom response
    headers, see ``spec/surface_hdr.py``), as on ``/conformance/text``.

``GET /conformance/capabilities``
    A JSON object of booleans: which streams the target serves and which
    observations it offers (see :mod:`spec.capabilities`).

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

``POST /conformance/chat`` (a JSON body: ``tokens``, ``style``, ``delay_ms``, ...)
    Stream a fake model's tokens as a chat API does, over SSE: ``openai`` chunks
    ended by ``data: [DONE]``, or ``typed`` events ended by one terminal event
    (:mod:`spec.chat`, :mod:`spec.kit.chat`).

``gate=NAME`` and ``/conformance/gates/NAME``
    A stream requested with ``gate=NAME`` makes its first chunk at once and
    waits at the gate before each further chunk (with ``gate_first=true``,
    before its first chunk too, its headers sent). ``POST .../NAME/wait``
    answers ``{"waiting": bool, "produced": int}`` once the producer waits
    there (or its stream has ended); ``POST .../NAME/open`` lets it make one
    more chunk; ``DELETE .../NAME`` opens the gate for good.
    as it is produced, in order, then end the response.

``GET|HEAD /conformance/files/{name}[?as=NAME]``
    Download the conformance file *name* (:data:`CONFORMANCE_FILES`,
    :data:`ZERO_FILES`, :data:`CHANGING_FILE`), served as any file download
    of the target is; ``as`` names it in ``Content-Disposition`` instead
    (:func:`download_name`: empty, repeated or not UTF-8, a 400).

``POST /conformance/files/changing.bin?size=N``
    Set the length of :data:`CHANGING_FILE` to *N* bytes in place, its
    content always ``file_bytes("changing.bin", N)``; answer 204.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from spec.sse import Event

SSE_PATH = "/conformance/sse"
TEXT_PATH = "/conformance/text"
ENDLESS_PATH = "/conformance/endless"
OBSERVE_PATH = "/conformance/observe"
FEED_PATH = "/conformance/feed"
BYTES_PATH = "/conformance/bytes"
LOG_PATH = "/conformance/log"
NDJSON_PATH = "/conformance/ndjson"
CHAT_PATH = "/conformance/chat"
GATES_PATH = "/conformance/gates"
CAPABILITIES_PATH = "/conformance/capabilities"


def event_to_json(event: Event) -> dict[str, Any]:
    """The surface's JSON form of *event*: its set members only."""
    members: dict[str, Any] = {"data": event.data}
    for name in ("event", "id", "retry", "comment"):
        value = getattr(event, name)
        if value is not None:
            members[name] = value
    return members


MAX_JSON_DEPTH = 32
"""The deepest nesting a surface JSON parameter or body may have (lists and objects)."""


def read_json(raw: str | bytes, what: str) -> object:
    """Parse the surface's JSON *raw* (named *what* in errors); ValueError unless it is JSON
    nested at most ``MAX_JSON_DEPTH`` deep whose strings (keys too) hold no lone surrogate
    (text that UTF-8 cannot carry). Never a RecursionError, whatever the nesting."""
    try:
        value: object = json.loads(raw)
    except RecursionError:
        raise ValueError(f"{what} is nested more than {MAX_JSON_DEPTH} deep") from None
    except ValueError as error:
        raise ValueError(f"{what} is not JSON: {error}") from None
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                raise ValueError(f"{what} holds a lone surrogate, which UTF-8 cannot carry")
        elif isinstance(item, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise ValueError(f"{what} is nested more than {MAX_JSON_DEPTH} deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return value


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
    if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int) or retry < 0):
        raise ValueError("retry must be an integer >= 0")
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
        chunks = read_json(raw, "chunks")
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
        sizes = read_json(raw, "sizes")
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
        lines = read_json(raw, "lines")
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


# --- Files (chapter "File download") -------------------------------------------------------

FILES_PATH = "/conformance/files"
"""``GET|HEAD /conformance/files/{name}`` serves the conformance files (``POST`` resizes one)."""

CHANGING_FILE = "changing.bin"
"""The one conformance file whose length the suite may set, in place, while it is downloaded."""

RECORD_SIZE = 32


def file_bytes(name: str, size: int, start: int = 0) -> bytes:
    """Bytes ``start`` to ``size`` of the conformance file *name* (see the surface chapter).

    The content is a run of 32-byte records: record *k* is the first 8 hex digits
    of SHA-256 of the UTF-8 name, a colon, *k* as 22 lower-case hex digits, and
    a LF. Every offset of every file holds a byte the suite can predict, and a
    slice taken from the wrong offset or from the wrong file differs.
    """
    tag = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8].encode("ascii")
    first = start // RECORD_SIZE
    last = -(-size // RECORD_SIZE)
    run = b"".join(b"%s:%022x\n" % (tag, k) for k in range(first, last))
    offset = first * RECORD_SIZE
    return run[start - offset : size - offset]


ZERO_FILES = {"zeros-64MiB.bin": 64 << 20, "zeros-1GiB.bin": 1 << 30}
"""Conformance files of zero bytes (a server may create them sparse), by name: their sizes."""

CONFORMANCE_FILES = {
    "empty.txt": 0,
    "small.txt": 1000,
    "data.json": 120,
    "image.png": 96,
    "no-extension": 300,
    "unknown.streamspec": 300,
    "with space.txt": 200,
    'quote".txt': 64,
    "100%.txt": 64,
    "résumé ✓.txt": 500,
    "sub/nested.txt": 400,
    "big.bin": 8 << 20,
}
"""The conformance files whose content is :func:`file_bytes`, by name (a path below the root)."""

OUTSIDE_MARKER = b"streamspec: this file is outside the served root\n"
"""The content of ``outside.txt``, the sibling of the served root no request may reach."""


def file_path(name: str) -> str:
    """The request path of the conformance file *name*, decoded (as ASGI's ``path`` holds it)."""
    return f"{FILES_PATH}/{name}"


def file_target(name: str) -> bytes:
    """The request target of the conformance file *name*, percent-encoded for the wire."""
    return f"{FILES_PATH}/{quote(name, safe='/')}".encode("ascii")


DOWNLOAD_NAME = "as"
"""The query parameter that offers a conformance file under another name."""


def download_name(query_string: bytes) -> str | None:
    """The ``as`` of a raw query string: the name to offer in ``Content-Disposition``.

    ``None`` when the query has no ``as``. Raise ValueError when ``as`` is
    empty, given more than once, or not UTF-8 once percent-decoded (``+`` is a
    space): the surface answers those with a 400.
    """
    values = []
    for pair in query_string.split(b"&"):
        key, _, value = pair.partition(b"=")
        if unquote_to_bytes(key.replace(b"+", b" ")) == DOWNLOAD_NAME.encode("ascii"):
            values.append(unquote_to_bytes(value.replace(b"+", b" ")))
    if not values:
        return None
    if len(values) > 1:
        raise ValueError(f"{DOWNLOAD_NAME} is given {len(values)} times")
    if not values[0]:
        raise ValueError(f"{DOWNLOAD_NAME} is empty")
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{DOWNLOAD_NAME} is not UTF-8") from None
