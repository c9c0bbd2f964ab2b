"""Encode one JSON value as one NDJSON / JSON Lines record.

NDJSON 1.0 section 3 and JSON Lines: "Each JSON text MUST conform to the
[RFC 8259] standard and MUST be written to the stream followed by the newline
character \\n (0x0A)". ``json.dumps`` escapes every control character inside
strings, so the text never holds a raw LF; NaN and the infinities are not JSON
(RFC 8259 section 6) and are refused.
"""

from __future__ import annotations

import json

from spec.ndjson.decoder import JsonValue


def encode(value: JsonValue) -> bytes:
    """Return *value* as one record: compact JSON, UTF-8, then exactly one LF.

    Raises:
        ValueError: *value* holds NaN or an infinity.
        TypeError: *value* is not made of JSON types.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"
