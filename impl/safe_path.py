"""Open a file named by a request, inside one root and nowhere else.

The name is the request's path below the download route, percent-decoded once
by the server; it is never decoded again (``%2e%2e`` names a file called
``%2e%2e``). Refused outright, before the filesystem is asked: an empty name,
a NUL byte, a backslash (a separator on Windows, never part of a name we
serve), an absolute path, and any empty, ``.`` or ``..`` segment. What is left
is resolved with every symlink followed; the result must lie inside the
resolved root and be a regular file, opened without following a final
symlink and without blocking on a FIFO.

The functions here block: call them in a worker thread. A symlink swapped in
between resolving and opening could still redirect the open (Python has no
``openat2(RESOLVE_BENEATH)``); the file's identity is checked after opening to
narrow that window to the intermediate directories.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class OpenFile:
    """A regular file opened for reading: its descriptor, its status, its name and the real
    path it was opened at (every symlink resolved, inside the root)."""

    fd: int
    stat: os.stat_result
    name: str
    path: str


def is_acceptable_name(name: str) -> bool:
    """Whether *name* is worth looking up at all (no separator tricks, no dot segments)."""
    if not name or "\0" in name or "\\" in name or name.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def open_inside(root: Path, name: str) -> OpenFile | None:
    """Open the regular file *name* inside *root*, or return ``None`` (blocking)."""
    if not is_acceptable_name(name):
        return None
    try:
        real_root = os.path.realpath(root, strict=True)
        real = os.path.realpath(os.path.join(real_root, *name.split("/")), strict=True)
        if os.path.commonpath([real_root, real]) != real_root:
            return None
        before = os.stat(real)
        fd = os.open(real, _FLAGS)
    except (OSError, ValueError):
        return None
    status = os.fstat(fd)
    same = (status.st_dev, status.st_ino) == (before.st_dev, before.st_ino)
    if not same or not stat.S_ISREG(status.st_mode):
        os.close(fd)
        return None
    return OpenFile(fd, status, name.rsplit("/", 1)[-1], real)
