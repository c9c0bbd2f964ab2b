"""Hostile inputs for the fuzz campaign (``tox -e fuzz``), one strategy per kind.

Each strategy mixes inputs built to hit a known fault class (numbers past
int()'s digit limit, JSON nested past the recursion limit, lone surrogates,
CR/LF meant to inject a header or an SSE field, traversal in a path) with
arbitrary text, so the campaign reaches both the faults found before and
whatever lies between them.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

INJECTED = "X-Injected"
"""The header (and, lowercased, the SSE field) every injection attempt tries to create."""

_HEADER_TEXT = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_BREAKS = st.sampled_from(["\r\n", "\n", "\r", "\r\n\r\n", "\x00", "\u2028", "\x85"])
_INJECTION = st.builds(
    lambda brk, field: f"{brk}{field}",
    _BREAKS,
    st.sampled_from(
        [f"{INJECTED}: 1", "event: x-injected", "id: x-injected", "retry: 1", "data: x"]
    ),
)
_NUMBER = st.one_of(
    st.integers(min_value=-5, max_value=2000).map(str),
    st.integers(min_value=1, max_value=9000).map(lambda n: "1" * n),
    st.sampled_from(["", "-", "+1", "0x10", "1e3", "١٢", "00", " 1", "1 "]),
)


def header_value(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """*text* as a value httpx can send (visible ASCII and spaces, none at either end)."""
    return text.map(lambda v: "".join(c for c in v if 0x20 <= ord(c) <= 0x7E).strip())


def _range_spec() -> st.SearchStrategy[str]:
    one = st.one_of(
        st.builds(lambda a, b: f"{a}-{b}", _NUMBER, _NUMBER),
        st.builds(lambda a: f"{a}-", _NUMBER),
        st.builds(lambda b: f"-{b}", _NUMBER),
        st.text(_HEADER_TEXT, max_size=12),
    )
    return st.lists(one, min_size=0, max_size=6).map(",".join)


ranges: st.SearchStrategy[str] = header_value(
    st.one_of(
        st.builds(
            lambda unit, spec: f"{unit}={spec}",
            st.sampled_from(["bytes", "Bytes", "BYTES ", "items", ""]),
            _range_spec(),
        ),
        st.text(_HEADER_TEXT, max_size=80),
    )
)
"""``Range`` header values."""

_PATH_PIECES = st.sampled_from(
    [
        "..", ".", "", "small.txt", "link-out.txt", "link-in.txt", "dir-out", "outside.txt",
        "%2e%2e", "%2E%2E", "%2f", "..%2f", "%5c", "\\", "..\\", "%00", "\x00", "sub",
        "data.json", "with space.txt", "quote\".txt", "root", "~", "//", "%252e%252e",
        "zeros-64MiB.bin/..", "ÿ", "é", "%ff", "%c0%ae",
    ]
)  # fmt: skip
download_paths: st.SearchStrategy[str] = st.one_of(
    st.lists(_PATH_PIECES, min_size=1, max_size=8).map("/".join),
    st.text(max_size=40),
)
"""Paths below ``/conformance/files/`` and ``/download/``, possibly percent-encoded already."""

download_names: st.SearchStrategy[str | None] = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.builds(
        lambda a, inj, b: f"{a}{inj}{b}", st.text(max_size=10), _INJECTION, st.text(max_size=10)
    ),
    st.sampled_from(['a";b', "../x", "%0d%0aX-Injected:%201", "%ff", "", "ä.txt"]),
)
"""``as=`` names (``None``: no ``as=``)."""

last_event_ids: st.SearchStrategy[str] = header_value(
    st.one_of(
        _NUMBER,
        st.text(_HEADER_TEXT, max_size=60),
        st.builds(lambda a, b: f"{a} data: {b}", _NUMBER, st.text(_HEADER_TEXT, max_size=8)),
    )
)
"""``Last-Event-ID`` values (CR and LF go over raw sockets, :data:`raw_heads`)."""

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.builds(lambda a, inj: a + inj, st.text(max_size=5), _INJECTION),
    st.just("\ud800"),
)
_JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)
_EVENT_KEYS = st.sampled_from(["data", "event", "id", "retry", "comment", "x"])
_EVENTS = st.lists(st.dictionaries(_EVENT_KEYS, _SCALARS, max_size=5), max_size=5)
_HEADERS = st.dictionaries(
    st.one_of(
        st.sampled_from(["X-A", "x-a", "X-Accel-Buffering", "Content-Type", "X-"]),
        st.text(max_size=8),
    ),
    _SCALARS,
    max_size=4,
)


def _as_text(value: Any, ascii_only: bool) -> str:
    try:
        return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    except (ValueError, TypeError):
        return "[]"


def json_parameter(shaped: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """A JSON parameter's raw text: *shaped* values, any JSON, deep nesting, or not JSON at all."""
    return st.one_of(
        st.builds(_as_text, shaped, st.booleans()),
        st.builds(_as_text, _JSON, st.booleans()),
        st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * (n % 2 * n)),
        st.text(max_size=40),
    )


events = json_parameter(_EVENTS)
chunks = json_parameter(
    st.lists(
        st.one_of(
            st.text(max_size=10), st.builds(lambda a, i: a + i, st.text(max_size=4), _INJECTION)
        ),
        max_size=6,
    )
)
lines = chunks
headers = json_parameter(_HEADERS)
sizes = json_parameter(st.lists(st.integers(min_value=-3, max_value=40), max_size=6))
feed_bodies = json_parameter(st.lists(st.text(max_size=10), max_size=6))
_TOKENS = st.lists(
    st.one_of(st.text(max_size=8), st.builds(lambda a, i: a + i, st.text(max_size=4), _INJECTION)),
    max_size=6,
)
_NO_INTEGER = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=5), st.just(1 << 70)
)
"""Values of a numeric member that are not in its range: a long delay or many repeats would be
a slow answer, not a fault."""
chat_bodies = json_parameter(
    st.fixed_dictionaries(
        {},
        optional={
            "tokens": st.one_of(_TOKENS, _SCALARS),
            "style": st.one_of(st.sampled_from(["openai", "typed", "OpenAI", ""]), _SCALARS),
            # The model thinks for at most 50 ms here: a valid delay is not a hang to find.
            "delay_ms": st.one_of(st.integers(min_value=-3, max_value=50), _NO_INTEGER),
            "fail_after": st.one_of(st.none(), st.integers(min_value=-1, max_value=8), _SCALARS),
            "keepalive": st.one_of(
                st.sampled_from([0, 0.05, 1, -1, 1e-300, 3601]), st.floats(), _SCALARS
            ),
            "repeat": st.one_of(st.integers(min_value=-1, max_value=3), _NO_INTEGER),
            "id": st.one_of(st.text(max_size=4), _SCALARS),
            "x": _SCALARS,
        },
    )
)
"""Bodies of ``POST /conformance/chat`` (valid ones kept short: a few tokens, little thinking)."""
keepalives = st.one_of(
    _NUMBER, st.sampled_from(["inf", "nan", "1e309", "1e-300", "0", "0.05", "3600"])
)

_METHODS = st.sampled_from(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "G\x00T", "", "GET GET", "get"]
)
_TARGETS = st.sampled_from(
    [
        "/conformance/sse?events=[{}]", "/conformance/sse?events=[{}]&gate=raw",
        "/conformance/text?chunks=[%22a%22]", "/conformance/log?lines=[]",
        "/conformance/bytes?sizes=[3]", "/conformance/files/small.txt",
        "/conformance/files/../outside.txt", "/conformance/capabilities", "/download/sample.txt",
        "/conformance/observe?id=raw&timeout=0.01", "*", "http://127.0.0.1/conformance/capabilities",
        "/%", "/conformance/sse?events=%ff", "",
    ]
)  # fmt: skip
_VERSIONS = st.sampled_from(
    ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 ", "http/1.1", "", "HTTP/9"]
)
_HEADER_LINES = st.one_of(
    st.sampled_from(
        [
            "Host: 127.0.0.1", "Content-Length: 3", "Content-Length: -1", "Content-Length: 3, 4",
            "Content-Length: " + "9" * 30, "Transfer-Encoding: chunked",
            "Transfer-Encoding: gzip, chunked",
            "Range: bytes=0-" + "1" * 4301, "Last-Event-ID: " + "1" * 4301, "Expect: 100-continue",
            "Connection: close", "Connection: upgrade", "Upgrade: h2c", " folded", "NoColon",
            ": empty-name", "X-A: \x00", "Last-Event-ID: 1\rX-Injected: 1", "Range: bytes=0-\r\n",
        ]
    ),
    st.builds(lambda n, v: f"{n}: {v}", st.text(max_size=10), st.text(max_size=20)),
)  # fmt: skip


def _head(line: tuple[str, str, str], fields: list[str], eol: str, body: bytes) -> bytes:
    text = " ".join(line) + eol + "".join(f + eol for f in fields) + eol
    return text.encode("utf-8", "surrogateescape") + body


raw_heads: st.SearchStrategy[bytes] = st.one_of(
    st.builds(
        _head, st.tuples(_METHODS, _TARGETS, _VERSIONS), st.lists(_HEADER_LINES, max_size=6),
        st.sampled_from(["\r\n", "\n", "\r", "\n\r"]), st.binary(max_size=40),
    ),
    st.binary(max_size=200),
)  # fmt: skip
"""Whole requests (heads and a little body) sent over a raw socket, then the write side shut."""
