"""The static site in a real headless Chromium (Debian's, driven by Playwright).

The pages are opened from disk (``file://``), as a reader of a checkout opens
them offline: the index lists every chapter, a chapter's page shows each of its
rules, and a rule's anchor scrolls its section to the top of the window and
marks it. Screenshots are kept in ``reports/site/`` (not committed), as
``reports/browser/`` keeps the EventSource page's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("markdown_it", reason="not run: markdown-it-py missing (the `site` extra)")

from spec import site
from tests.eventsource_page import launched

SCREENSHOTS = Path(__file__).resolve().parent.parent / "reports" / "site"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    site.build(out)
    return out


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with launched() as chromium:
        context = chromium.new_context(viewport={"width": 1200, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()


def _shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def test_the_index_lists_every_chapter(built: Path, page: Any) -> None:
    page.goto((built / "index.html").as_uri())
    _shot(page, "index.png")
    items = page.locator("ol.contents li")
    titles = [page.title for page in site.pages()]
    assert items.all_inner_texts() == [
        f"{title} ({len(chapter.rules())} rules)"
        for title, chapter in zip(titles, site.pages(), strict=True)
    ]
    assert page.locator("text=The streamspec specification").first.is_visible()


def test_a_chapter_page_shows_its_rules(built: Path, page: Any) -> None:
    page.goto((built / "index.html").as_uri())
    chapter = site.pages()[0]
    page.click(f"ol.contents a[href='{chapter.file}']")
    page.wait_for_url(f"**/{chapter.file}")
    _shot(page, f"{chapter.anchor}.png")
    rules = page.locator("section.rule")
    assert rules.count() == len(chapter.rules())
    for rule in chapter.rules():
        section = page.locator(f"section[id='{rule.id}']")
        assert section.is_visible()
        assert rule.id in section.inner_text()
        assert rule.level in section.locator(".level").inner_text()


def test_a_rules_anchor_scrolls_to_it(built: Path, page: Any) -> None:
    # The middle rule of the longest chapter: the page can scroll it to the top.
    chapter = max(site.pages(), key=lambda page: len(page.rules()))
    rule = chapter.rules()[len(chapter.rules()) // 2]
    page.goto(f"{(built / chapter.file).as_uri()}#{rule.id}")
    _shot(page, f"{rule.id}.png", full_page=False)
    top = page.evaluate("id => document.getElementById(id).getBoundingClientRect().top", rule.id)
    assert page.evaluate("window.scrollY") > 0, "the page scrolled"
    assert abs(top) < 2, f"the rule's section is at the top of the window ({top}px)"
    background = page.evaluate(
        "id => getComputedStyle(document.getElementById(id)).backgroundColor", rule.id
    )
    assert background == "rgb(255, 248, 208)", "the targeted rule is marked"
