"""Read ``Content-Disposition`` as RFC 6266 defines it, and the file name a client takes from it.

A strict parser of the grammar of RFC 6266 section 4.1, with ``ext-value``
from RFC 8187 section 3.2; the suite's oracle, so written by hand to the letter
(the parsers of the standard library, ``email.message``, accept more than the
grammar and decode RFC 2231 continuations that HTTP does not have).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_OWS = r"[ \t]*"
_PARAM = re.compile(rf";{_OWS}({_TOKEN}){_OWS}={_OWS}({_TOKEN}|{_QUOTED}){_OWS}")
_TYPE = re.compile(rf"({_TOKEN}){_OWS}")
_EXT_VALUE = re.compile(
    r"([!#$%&+\-^_`{}~0-9A-Za-z]+)'([A-Za-z0-9\-]*)'((?:%[0-9A-Fa-f]{2}|[!#$&+\-.^_`|~0-9A-Za-z])*)"
)


@dataclass(frozen=True)
class Disposition:
    """A parsed header: its type (lower-cased) and parameters (names lower-cased, raw values)."""

    type: str
    params: dict[str, str]

    def filename(self) -> str | None:
        """The name a client saves under: ``filename*`` when present, else ``filename``."""
        if "filename*" in self.params:
            return decode_ext_value(self.params["filename*"])
        if "filename" in self.params:
            return unquote_value(self.params["filename"])
        return None


def parse(value: str) -> Disposition:
    """Parse a ``Content-Disposition`` value; raise ValueError if it breaks the grammar."""
    match = _TYPE.match(value)
    if match is None:
        raise ValueError(f"no disposition type in {value!r}")
    params: dict[str, str] = {}
    position = match.end()
    while position < len(value):
        param = _PARAM.match(value, position)
        if param is None:
            raise ValueError(f"malformed parameter at offset {position} of {value!r}")
        name = param.group(1).lower()
        if name in params:
            raise ValueError(f"parameter {name} given twice in {value!r}")
        params[name] = param.group(2)
        position = param.end()
    if "filename*" in params:
        decode_ext_value(params["filename*"])
    return Disposition(match.group(1).lower(), params)


def unquote_value(value: str) -> str:
    """A token, or a quoted-string with its quotes and escapes removed."""
    if not value.startswith('"'):
        return value
    return re.sub(r"\\(.)", r"\1", value[1:-1])


def decode_ext_value(value: str) -> str:
    """Decode an RFC 8187 ``ext-value`` (UTF-8 or ISO-8859-1); raise ValueError otherwise."""
    match = _EXT_VALUE.fullmatch(value)
    if match is None:
        raise ValueError(f"malformed ext-value {value!r}")
    charset = match.group(1).lower()
    if charset not in ("utf-8", "iso-8859-1"):
        raise ValueError(f"ext-value charset {charset!r} is neither UTF-8 nor ISO-8859-1")
    return unquote_to_bytes(match.group(3)).decode(charset)
