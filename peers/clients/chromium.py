"""Chromium's ``EventSource``, in headless Chromium driven by Playwright.

The adapter opens a blank page on the stream's own origin (Playwright answers
that one request itself, so the replay server needs no page and no CORS),
creates ``new EventSource(url)`` there, listens to each event type the URL's
``types`` parameter names, and relays each event, in order, through a function
the page calls back into Python. On the first ``error`` event it reads
``readyState``: ``CLOSED`` means the browser failed the connection, anything
else that the stream ended and the browser means to reconnect, which the
adapter prevents by closing the source. With ``reconnect=1`` in the URL it
lets the browser reconnect, and reports only the ``error`` whose
``readyState`` is ``CLOSED`` (the browser gave up for good). ``retry`` is not
visible to a page.

The browser is the system's Chromium (``STREAMSPEC_CHROMIUM``, else
``chromium`` or ``chromium-browser`` on PATH); nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import sync_playwright

from spec.clients.protocol import Emitter

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

GUARD_MS = 50_000
"""A hang guard for the whole stream (the suite's own guard is longer)."""

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script>
let queue = Promise.resolve();
function say(value) { queue = queue.then(() => window.relay(JSON.stringify(value))); return queue; }
function start(url, types, reconnect) {
  const source = new EventSource(url);
  for (const type of types) {
    source.addEventListener(type, (e) => say({event: {type: e.type, data: e.data,
                                                       lastEventId: e.lastEventId}}));
  }
  source.addEventListener("error", () => {
    const failed = source.readyState === EventSource.CLOSED;
    if (reconnect && !failed) return;
    source.close();
    say(failed ? {failed: "EventSource readyState CLOSED after error"} : {end: "closed"})
      .then(() => { window.finished = true; });
  });
}
</script></head><body></body></html>"""


def executable() -> str:
    """The Chromium to run; SystemExit if there is none."""
    for name in (os.environ.get("STREAMSPEC_CHROMIUM"), "chromium", "chromium-browser"):
        found = shutil.which(name) if name else None
        if found:
            return found
    raise SystemExit("no chromium: set STREAMSPEC_CHROMIUM or put chromium on PATH")


def main(url: str) -> int:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    types = query.get("types", ["message"])[0].split(",")
    reconnect = query.get("reconnect") == ["1"]
    page_url = f"{parts.scheme}://{parts.netloc}/__streamspec_client__"
    emitter = Emitter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable(), args=FLAGS)
        try:
            emitter.hello(f"Chromium EventSource {browser.version}", observes=["reconnect"])
            page = browser.new_page()
            page.route(page_url, lambda route: route.fulfill(content_type="text/html", body=PAGE))
            page.expose_function("relay", lambda line: _relay(emitter, line))
            page.goto(page_url)
            page.evaluate(
                "([url, types, reconnect]) => start(url, types, reconnect)", [url, types, reconnect]
            )
            page.wait_for_function("window.finished === true", timeout=GUARD_MS)
        finally:
            browser.close()
    return 0


def _relay(emitter: Emitter, line: str) -> None:
    value = json.loads(line)
    if "event" in value:
        event = value["event"]
        emitter.event(event["type"], event["data"], event["lastEventId"])
    elif "failed" in value:
        emitter.failed(value["failed"])
    else:
        emitter.end(value["end"])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
