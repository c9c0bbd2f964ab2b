"""Validators of a file and the conditional requests they answer (RFC 9110 sections 8.8, 13).

Pure functions of a file's status and the request's header values. Written by
hand because Starlette's ``FileResponse`` evaluates none of ``If-None-Match``
or ``If-Modified-Since`` (only ``StaticFiles`` does, for its own routes), and
its ETag is a hash of the float mtime, which ``If-Range`` then compares.

* ETag: strong, ``"SIZE-MTIME_NS"`` in hex: it changes whenever the size or the
  modification time (in nanoseconds) does.
* Last-Modified: the mtime as an IMF-fixdate, whole seconds.
* ``If-None-Match`` (weak comparison, ``*``) decides alone when present;
  otherwise ``If-Modified-Since`` (a valid HTTP-date) does; both only for GET
  and HEAD. ``If-Range`` matches a strong ETag exactly, or a date equal to
  Last-Modified when that date is a strong validator (a second or more before
  the response); a weak ETag never matches.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime


@dataclass(frozen=True)
class Validators:
    """What identifies one version of a file."""

    etag: str
    last_modified: str
    mtime: int

    @classmethod
    def of(cls, status: os.stat_result) -> Validators:
        etag = f'"{status.st_size:x}-{status.st_mtime_ns:x}"'
        mtime = int(status.st_mtime)
        return cls(etag, formatdate(mtime, usegmt=True), mtime)


def _http_date(value: str) -> int | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return int(parsed.timestamp())


def _entity_tags(value: str) -> list[str]:
    return [tag.strip() for tag in value.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def not_modified(
    validators: Validators, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether a GET or HEAD with these preconditions gets 304 Not Modified."""
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        mine = _opaque(validators.etag)
        return any(_opaque(tag) == mine for tag in _entity_tags(if_none_match))
    if if_modified_since is not None:
        since = _http_date(if_modified_since)
        return since is not None and validators.mtime <= since
    return False


def range_allowed(validators: Validators, if_range: str | None) -> bool:
    """Whether ``If-Range`` (absent, or matching the current file) lets a Range apply."""
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith("W/"):
        return False
    if if_range.startswith('"'):
        return if_range == validators.etag
    date = _http_date(if_range)
    strong_date = time.time() - validators.mtime >= 1
    return date is not None and date == validators.mtime and strong_date
