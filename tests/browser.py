"""Render a page in a real headless Chromium and return what a person sees of it.

Chromium's command line (``--dump-dom``) returns the DOM once the page has
loaded, not what is rendered. So the page is loaded inside a frame of a small
viewer page, served over loopback HTTP (same origin, so the viewer may read
the frame): when the frame has loaded, the viewer copies the frame's
``innerText`` (the text as laid out: nothing hidden, collapsed ``<details>``
left out) and each result cell's rendered background colour into its own DOM,
which ``--dump-dom`` then prints. No DevTools client is needed, so no
dependency beyond the browser itself.
"""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,2000",
]

_VIEWER = """<!DOCTYPE html>
<html><body>
<pre id="seen"></pre><pre id="cells"></pre>
<iframe id="page" src="page.html{fragment}" style="width:1400px;height:2000px" onload="
  var d = this.contentDocument;
  document.getElementById('seen').textContent = d.body.innerText;
  var cells = Array.from(d.querySelectorAll('td.result')).map(function (c) {
    return {rule: c.parentElement.id, column: c.cellIndex, text: c.innerText,
            background: getComputedStyle(c).backgroundColor};
  });
  document.getElementById('cells').textContent = JSON.stringify(cells);
"></iframe>
</body></html>
"""


def chromium() -> str | None:
    """The path of a Chromium executable, or ``None``."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Cell:
    """A result cell of the matrix as rendered: its row's rule, column, text and colour."""

    rule: str
    column: int
    text: str
    background: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        red, green, blue = (int(n) for n in re.findall(r"\d+", self.background)[:3])
        return red, green, blue


@dataclass(frozen=True)
class Seen:
    """What the browser rendered: the visible text and the result cells."""

    text: str
    cells: list[Cell]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


def render(page: Path, *, executable: str, fragment: str = "") -> Seen:
    """Load *page* in headless Chromium (at *fragment*, ``#name``, if given); return its
    visible text and rendered result cells."""
    with tempfile.TemporaryDirectory(prefix="streamspec-browser-") as scratch:
        folder = Path(scratch)
        shutil.copy(page, folder / "page.html")
        viewer = _VIEWER.replace("{fragment}", fragment)
        (folder / "viewer.html").write_text(viewer, encoding="utf-8")
        profile = folder / "profile"
        with _serve(folder) as base:
            completed = subprocess.run(
                [
                    executable,
                    *_FLAGS,
                    f"--user-data-dir={profile}",
                    "--dump-dom",
                    f"{base}/viewer.html",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
    dom = completed.stdout
    seen = re.search(r'<pre id="seen">(.*?)</pre>', dom, re.DOTALL)
    cells = re.search(r'<pre id="cells">(.*?)</pre>', dom, re.DOTALL)
    if seen is None or cells is None or not cells.group(1):
        raise AssertionError(
            f"chromium rendered nothing (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
        )
    return Seen(
        html.unescape(seen.group(1)),
        [Cell(**cell) for cell in json.loads(html.unescape(cells.group(1)))],
    )
