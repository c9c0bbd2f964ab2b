"""The reference app's index (``GET /``): every demo route listed, every link answering.

The demo routes are read from the app as :func:`impl.app.create_app` builds it
(its FastAPI app's routes, less the index's own), not from a list kept here, so
a route added to :mod:`impl.demo` is held to the same test.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match

from impl import index
from impl.app import create_app
from impl.settings import Settings
from spec import chapters, render
from spec.rules import REGISTRY
from spec.streams import fetch
from spec.targets.client import AsgiClient

FAST = Settings(log_interval=0, event_interval=0, log_lines=3, event_count=2)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


async def _links(app: Any) -> list[str]:
    fetched = await fetch(AsgiClient(app), "GET", "/")
    assert fetched.status == 200
    assert fetched.header("content-type") == "text/html; charset=utf-8"
    parser = _Links()
    parser.feed(fetched.body.decode())
    return parser.hrefs


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    # FastAPI 0.165 keeps an included router whole (a route with ``original_router``);
    # earlier versions copied its routes into the app's.
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def _demo_routes(app: Any) -> list[APIRoute]:
    """The app's API routes but the index's own (FastAPI's /openapi.json and /docs are
    plain routes) and those outside the schema (a demo's HEAD twin, POST /chat, which
    the index lists through their GET and its page)."""
    own = {index.SPEC_PATH, "/"}
    routes = _api_routes(app.app.routes)
    return [r for r in routes if r.path not in own and r.include_in_schema]


async def test_every_demo_route_is_listed_once() -> None:
    app = create_app(FAST)
    links = [link for link in await _links(app) if not link.startswith(index.SPEC_PATH)]
    routes = _demo_routes(app)
    assert routes, "the app has no demo routes"
    for route in routes:
        matching = [
            link
            for link in links
            if route.matches({"type": "http", "path": link, "method": min(route.methods)})[0]
            is Match.FULL
        ]
        assert len(matching) == 1, f"{route.path} is linked by {matching}"


async def test_every_listed_link_answers() -> None:
    app = create_app(FAST)
    for link in {link.partition("#")[0] for link in await _links(app)}:
        fetched = await fetch(AsgiClient(app), "GET", link)
        assert fetched.status == 200, link


async def test_every_rule_link_lands_on_its_anchor_in_the_spec() -> None:
    chapters.load_all()
    app = create_app(FAST)
    rules = [link for link in await _links(app) if link.startswith(f"{index.SPEC_PATH}#")]
    assert rules
    page = (await fetch(AsgiClient(app), "GET", index.SPEC_PATH)).body.decode()
    for link in rules:
        anchor = link.partition("#")[2]
        assert anchor in REGISTRY or anchor == "sources", link
        assert f'<a id="{anchor}"></a>' in page, link


def test_every_demo_route_declares_its_summary_and_rules() -> None:
    """The index lists what :func:`impl.index.demo` declares; a route without it, or a
    parameter without an example, stops the app from being built."""
    chapters.load_all()
    entries = index.demos(_demo_routes(create_app(FAST)))
    assert all(entry.summary and entry.rules for entry in entries)
    assert all(rule in REGISTRY for entry in entries for rule in entry.rules)
    bare = APIRouter()
    bare.get("/plain")(lambda: None)
    with pytest.raises(ValueError, match="/plain declares no summary"):
        index.demos(bare.routes)
    unlinked = APIRouter()
    unlinked.get("/files/{name}", summary="A file.", openapi_extra=index.demo("FILE-SERVE-01"))(
        lambda name: None
    )
    with pytest.raises(ValueError, match="give demo"):
        index.demos(unlinked.routes)


def test_the_spec_page_is_text_with_live_anchors() -> None:
    assert index.SPEC_MARKDOWN == render.OUTPUT
    page = index.render_spec('<a id="X-Y-01"></a>\n# <b>bold</b> & <script>x</script>\n')
    assert '<a id="X-Y-01"></a>' in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "<script>" not in page


def test_the_schema_has_one_operation_per_method_and_no_warning() -> None:
    """A GET+HEAD route gives both operations one ID, which FastAPI warns of (an error here,
    under ``filterwarnings = error``): each demo's HEAD twin stays out of the schema."""
    schema = create_app(FAST).wrapped.app.openapi()
    assert "get" in schema["paths"]["/events"]
    assert "head" not in schema["paths"]["/events"]
