"""``Content-Disposition`` for a download (RFC 6266) with ``filename*`` (RFC 8187).

Written by hand because Starlette's ``FileResponse`` percent-encodes with
``quote()``, which leaves ``/`` unencoded (not an ``attr-char``: the
``ext-value`` it writes for ``a/b`` is malformed) and sends no ASCII
``filename`` beside ``filename*``; no maintained library writes this header.

Whatever the name holds, the value is printable ASCII: no CR, LF, NUL or other
control character can reach the header. A name that is plain ASCII is sent as
a quoted ``filename`` (quote and backslash escaped); any other name is sent as
``filename*=UTF-8''...`` with every byte outside ``attr-char`` percent-encoded,
after a ``filename`` fallback in which each character that is not safe ASCII
becomes ``_`` (RFC 6266 appendix D).
"""

from __future__ import annotations

import string

_ATTR_CHAR = frozenset((string.ascii_letters + string.digits + "!#$&+-.^_`|~").encode("ascii"))
# Printable ASCII that user agents read the same in a quoted filename; "%" is left
# out because some of them percent-decode filename (RFC 6266 appendix D).
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"%", '"', "\\"}
_FALLBACK_SAFE = _PLAIN | {'"'}


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """The ``Content-Disposition`` value offering *filename* to the client."""
    if all(c in _PLAIN for c in filename):
        return f'{disposition}; filename="{filename}"'
    fallback = "".join(c if c in _FALLBACK_SAFE else "_" for c in filename)
    encoded = "".join(
        chr(byte) if byte in _ATTR_CHAR else f"%{byte:02X}"
        for byte in filename.encode("utf-8", "replace")
    )
    return f"{disposition}; filename=\"{quote_string(fallback)}\"; filename*=UTF-8''{encoded}"


def quote_string(text: str) -> str:
    """*text* as the inside of an HTTP quoted-string: quote and backslash escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
