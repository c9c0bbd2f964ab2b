"""The learner's pages: ``GET /``, an index of the demo routes, and ``GET /spec``, the spec.

The index is built from the demo router's own routes, never from a list of its
own: each demo route declares, with :func:`demo`, its one-line ``summary``, the
rules it illustrates and, when its path has a parameter, a path to try. A demo
route that declares none of it is an error when the app is built, so no route
goes unlisted and no listed route is missing.

``/`` answers HTML only. A person opens it in a browser; a program that wants
the routes reads ``/openapi.json`` (FastAPI's), where :func:`demo`'s
declarations appear on each operation (``x-streamspec-rules``,
``x-streamspec-example``), so a JSON form of the index would be a second copy.

``/spec`` answers ``spec/README.md`` (shipped beside the chapters) as
preformatted text in which only the rules' anchors (``<a id="ID"></a>``) are
markup: an index link ``/spec#SSE-ENC-02`` scrolls to the rule, offline and
with no Markdown renderer in the app. Markdown reads well as plain text; the
spec as a rendered site is ``streamspec render --site DIR``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse, Response

from spec import sse

#: The one-page spec whose anchors the index links to (:data:`spec.render.OUTPUT`, named
#: here from ``spec.sse``'s place: importing :mod:`spec.render` would import pytest).
SPEC_MARKDOWN = Path(sse.__file__).parent.parent / "README.md"
SPEC_PATH = "/spec"

_RULES = "x-streamspec-rules"
_EXAMPLE = "x-streamspec-example"
_ANCHOR = re.compile(r'<a id="[A-Za-z0-9-]+"></a>')


def demo(*rules: str, example: str | None = None) -> dict[str, Any]:
    """The ``openapi_extra`` of a demo route: the IDs of the rules it illustrates and, for
    a path with a parameter, *example*, a path that answers (the index links to it)."""
    if not rules:
        raise ValueError("a demo route illustrates at least one rule")
    extra: dict[str, Any] = {_RULES: list(rules)}
    if example is not None:
        extra[_EXAMPLE] = example
    return extra


@dataclass(frozen=True)
class Demo:
    """One entry of the index: the route's path pattern (``/download/{name}``), the path
    it links to, its one-line summary and the rules it illustrates."""

    pattern: str
    link: str
    summary: str
    rules: tuple[str, ...]


def demos(routes: Sequence[Any]) -> list[Demo]:
    """The index's entries for *routes* (a router's), in their order.

    A route outside the OpenAPI schema is not listed. Raises ``ValueError`` for a route
    that is not an ``APIRoute`` with a summary and :func:`demo`'s declaration, or whose
    path has a parameter and no example.
    """
    entries = []
    for route in routes:
        if not getattr(route, "include_in_schema", True):
            continue  # the HEAD twin of a demo route (impl.demo): listed once, as its GET
        extra = getattr(route, "openapi_extra", None) or {}
        if not isinstance(route, APIRoute) or not route.summary or _RULES not in extra:
            name = getattr(route, "path", route)
            raise ValueError(f"demo route {name} declares no summary= and openapi_extra=demo()")
        link = extra.get(_EXAMPLE, route.path)
        if "{" in link:
            raise ValueError(f"demo route {route.path} has a parameter: give demo(example=)")
        entries.append(Demo(route.path_format, link, route.summary, tuple(extra[_RULES])))
    return entries


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>streamspec reference implementation</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto;
    padding: 0 1rem; color: #222; }}
  li {{ margin-bottom: 0.8em; }}
  .rules {{ font-size: 0.9em; }}
</style>
</head>
<body>
<h1>streamspec reference implementation</h1>
<p><a href="{spec}#sources">The streaming tutorial</a>'s three cases, done right.
Each demo below links to the rules of <a href="{spec}">the spec</a> it illustrates.</p>
<ul>
{items}
</ul>
<p>The suite drives this app through its conformance surface
(<a href="/conformance/capabilities"><code>/conformance/capabilities</code></a>
says what it serves). Run the spec against it with
<code>streamspec check http://HOST:PORT</code>.</p>
</body>
</html>
"""


def render_index(entries: Sequence[Demo]) -> str:
    """The index page: each demo's link, its summary and its rules, linked to the spec."""
    items = []
    for entry in entries:
        rules = ", ".join(
            f'<a href="{SPEC_PATH}#{html.escape(rule)}">{html.escape(rule)}</a>'
            for rule in entry.rules
        )
        items.append(
            f'<li><a href="{html.escape(entry.link)}"><code>GET {html.escape(entry.pattern)}'
            f"</code></a>: {html.escape(entry.summary)}<br>"
            f'<span class="rules">Rules: {rules}</span></li>'
        )
    return _PAGE.format(spec=SPEC_PATH, items="\n".join(items))


def render_spec(markdown: str) -> str:
    """*markdown* as one preformatted HTML page: every character escaped but the rules'
    anchors, which stay anchors."""
    parts, end = [], 0
    for anchor in _ANCHOR.finditer(markdown):
        parts += [html.escape(markdown[end : anchor.start()]), anchor.group()]
        end = anchor.end()
    parts.append(html.escape(markdown[end:]))
    body = "".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>The streamspec specification</title>\n"
        "<style>pre { white-space: pre-wrap; font: 14px/1.5 ui-monospace, monospace; "
        "max-width: 52rem; margin: 2rem auto; }</style>\n"
        f"</head>\n<body>\n<pre>{body}</pre>\n</body>\n</html>\n"
    )


# Read when the module is imported, so that no request, and no app built on an event
# loop, reads a file on the loop's thread.
_SPEC_PAGE = render_spec(SPEC_MARKDOWN.read_text("utf-8")) if SPEC_MARKDOWN.is_file() else None


def build_router(demo_routes: Sequence[Any]) -> APIRouter:
    """``GET /``, the index of *demo_routes* (a router's routes, each declared with
    :func:`demo`), and ``GET /spec``."""
    index = render_index(demos(demo_routes))
    spec_page = _SPEC_PAGE
    router = APIRouter()

    @router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index_page() -> Response:
        return HTMLResponse(index)

    @router.api_route(SPEC_PATH, methods=["GET", "HEAD"], include_in_schema=False)
    async def spec_markdown() -> Response:
        if spec_page is None:
            return Response("spec/README.md is not installed\n", 404, media_type="text/plain")
        return HTMLResponse(spec_page)

    return router
