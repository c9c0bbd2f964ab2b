"""The files of the conformance surface, written once a process into a temporary directory.

Layout (see the chapter "Conformance surface")::

    BASE/outside.txt          OUTSIDE_MARKER: no request may reach it
    BASE/root/                the served root: CONFORMANCE_FILES, ZERO_FILES (sparse), changing.bin
    BASE/root/link-out.txt -> ../outside.txt
    BASE/root/dir-out      -> ..
    BASE/root/link-in.txt  -> small.txt

The directory is made on first use (in a worker thread: it writes megabytes)
and removed when the process exits; one layout serves every kit of a process.

Moved from the reference app (``impl/conformance_files.py``). Written by hand:
the files' names and contents are streamspec's own (``spec.surface.file_bytes``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

from spec.surface import (
    CHANGING_FILE,
    CONFORMANCE_FILES,
    OUTSIDE_MARKER,
    ZERO_FILES,
    file_bytes,
)

MAX_CHANGING_SIZE = 64 << 20
"""The largest length the suite may give ``changing.bin``."""

_lock = threading.Lock()
_root: Path | None = None


def root() -> Path:
    """The served root, made on first call (blocking: call it in a worker thread)."""
    global _root  # noqa: PLW0603 -- one layout a process, made lazily
    with _lock:
        if _root is None:
            _root = _make_layout()
        return _root


def _make_layout() -> Path:
    base = Path(tempfile.mkdtemp(prefix="streamspec-files-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    (base / "outside.txt").write_bytes(OUTSIDE_MARKER)
    served = base / "root"
    served.mkdir()
    for name, size in CONFORMANCE_FILES.items():
        path = served / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file_bytes(name, size))
    for name, size in ZERO_FILES.items():
        with (served / name).open("wb") as file:
            file.truncate(size)
    (served / CHANGING_FILE).write_bytes(b"")
    (served / "link-out.txt").symlink_to("../outside.txt")
    (served / "dir-out").symlink_to("..")
    (served / "link-in.txt").symlink_to("small.txt")
    return served


def resize_changing(size: int) -> None:
    """Give ``changing.bin`` *size* bytes in place, keeping its inode (blocking).

    A download that has the file open sees the change: bytes appended, or the
    file truncated under it.
    """
    if not 0 <= size <= MAX_CHANGING_SIZE:
        raise ValueError(f"size must be between 0 and {MAX_CHANGING_SIZE}")
    path = root() / CHANGING_FILE
    fd = os.open(path, os.O_RDWR)
    try:
        current = os.fstat(fd).st_size
        if size < current:
            os.ftruncate(fd, size)
        else:
            os.pwrite(fd, file_bytes(CHANGING_FILE, size, current), current)
    finally:
        os.close(fd)
