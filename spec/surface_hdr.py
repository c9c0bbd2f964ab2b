"""The conformance surface's additions for the header chapter, suite side.

Two additions to the surface of ``spec/surface.py`` (documented in the
chapter "Conformance surface"):

``headers=JSON`` on ``GET /conformance/sse`` and ``GET /conformance/text``
    A JSON object of response headers the stream must carry unchanged (names
    ``X-...``, values of visible ASCII and spaces): the way the suite asks for
    a custom header such as the streaming tutorial's ``X-Stream-Id``. A value
    holding CR, LF or NUL, or any other malformed object, is refused with a
    400 before anything is streamed.

``GET /conformance/sse/stop``
    The answer to an ``EventSource`` that must stop reconnecting (its stream
    is over for good): ``204 No Content``.

The chapter holds its streams' producers with the surface's gates
(``gate=NAME``, ``gate_first=true``; see :mod:`spec.gates`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from spec.surface import read_json

SSE_STOP_PATH = "/conformance/sse/stop"


def headers_params(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The query parameter asking a stream to carry the custom *headers*."""
    return [("headers", json.dumps(dict(headers), ensure_ascii=False))]


_MAX_HEADERS = 8
_MAX_VALUE = 1024
STREAM_OWN_HEADERS = frozenset({"x-accel-buffering", "x-content-type-options"})
"""The ``X-`` headers a stream sets itself (lower case): ``headers=JSON`` may not name them."""
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def custom_headers_from_json(raw: str) -> dict[str, str]:
    """Read the ``headers`` parameter; raise ValueError on anything a stream must not carry.

    Names are ``X-`` followed by letters, digits and hyphens; values are
    visible ASCII and spaces (RFC 9110 5.5), so CR, LF and NUL are refused, and
    neither begin nor end with a space (a field value carries no surrounding
    whitespace). A name given twice (in any case) or one of
    ``STREAM_OWN_HEADERS`` is refused: a custom header never overrides or
    duplicates one the stream sets itself.
    """
    try:
        members = read_json(raw, "headers")
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
        if value != value.strip(" "):
            raise ValueError(f"header {name}: the value begins or ends with whitespace")
        if name.lower() in STREAM_OWN_HEADERS:
            raise ValueError(f"header {name} is one the stream sets itself")
    if len({name.lower() for name in members}) != len(members):
        raise ValueError("headers names one header twice")
    return members
