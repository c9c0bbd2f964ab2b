"""The conformance surface's endpoints for the header chapter, suite side.

Three additions to the surface of ``spec/surface.py`` (documented in the
chapter "Conformance surface"), kept in their own module so they stay apart
from the gates other chapters define:

``GET /conformance/paced/sse?events=JSON&pace=KEY[&headers=JSON]``
``GET /conformance/paced/text?chunks=JSON&pace=KEY[&headers=JSON]``
    The streams of ``/conformance/sse`` and ``/conformance/text``, except that
    item *i* (counting from 0) is produced only after the suite has called
    ``/conformance/paced/next`` with the same ``KEY`` *i + 1* times. With no
    call at all the response is held open before its first item, which lets
    the suite see when the headers leave. ``headers`` is a JSON object of
    response headers the stream must carry unchanged (names ``X-...``, values
    of visible ASCII and spaces): the way the suite asks for a custom header
    such as the source document's ``X-Stream-Id``. A value holding CR, LF or
    NUL, or any other malformed parameter, is refused with a 400.

``GET /conformance/paced/next?pace=KEY``
    Lets the stream paced by ``KEY`` produce one more item; answers 204.

``GET /conformance/sse/stop``
    The answer to an ``EventSource`` that must stop reconnecting (its stream
    is over for good): ``204 No Content``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence

from spec.sse import Event
from spec.surface import event_to_json

PACED_SSE_PATH = "/conformance/paced/sse"
PACED_TEXT_PATH = "/conformance/paced/text"
PACED_NEXT_PATH = "/conformance/paced/next"
SSE_STOP_PATH = "/conformance/sse/stop"


def new_pace_key() -> str:
    """A fresh key, unique to one paced stream."""
    return uuid.uuid4().hex


def paced_sse_params(
    events: Sequence[Event], key: str, headers: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Query parameters asking ``/conformance/paced/sse`` for *events*, paced by *key*."""
    params = [
        ("events", json.dumps([event_to_json(e) for e in events], ensure_ascii=False)),
        ("pace", key),
    ]
    if headers is not None:
        params.append(("headers", json.dumps(dict(headers), ensure_ascii=False)))
    return params


def paced_text_params(
    chunks: Sequence[str], key: str, headers: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Query parameters asking ``/conformance/paced/text`` for *chunks*, paced by *key*."""
    params = [("chunks", json.dumps(list(chunks), ensure_ascii=False)), ("pace", key)]
    if headers is not None:
        params.append(("headers", json.dumps(dict(headers), ensure_ascii=False)))
    return params


_MAX_HEADERS = 8
_MAX_VALUE = 1024
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_KEY_CHARS = _NAME_CHARS | {"_"}


def custom_headers_from_json(raw: str) -> dict[str, str]:
    """Read the ``headers`` parameter; raise ValueError on anything a stream must not carry.

    Names are ``X-`` followed by letters, digits and hyphens; values are
    visible ASCII and spaces (RFC 9110 5.5), so CR, LF and NUL are refused.
    """
    try:
        members = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"headers is not JSON: {error}") from None
    if not isinstance(members, dict) or len(members) > _MAX_HEADERS:
        raise ValueError(f"headers must be a JSON object of at most {_MAX_HEADERS} members")
    for name, value in members.items():
        if not (name[:2].lower() == "x-" and len(name) > 2 and set(name) <= _NAME_CHARS):
            raise ValueError(f"header name {name!r} is not X- and a token")
        if not isinstance(value, str) or len(value) > _MAX_VALUE:
            raise ValueError(f"header {name}: the value must be a string of at most {_MAX_VALUE}")
        if any(not (" " <= char <= "~") for char in value):
            raise ValueError(f"header {name}: the value holds a character a field cannot carry")
    return members


def pace_key_from_query(raw: str) -> str:
    """Check a ``pace`` key (1 to 64 letters, digits, ``-`` or ``_``); raise ValueError if not."""
    if not 1 <= len(raw) <= 64 or not set(raw) <= _KEY_CHARS:
        raise ValueError("pace must be 1 to 64 letters, digits, '-' or '_'")
    return raw
