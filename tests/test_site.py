"""The static site (spec.site) stays in step with the rules, and its links resolve.

Every rule of the registry has its anchor on its chapter's page, with its level,
source and checks; a rule declared (with a check) after the fact shows up on the
next build; every link between pages reaches an existing file and anchor, and
every check's link reaches the line of its function; a matrix given shows each
peer's result, and without one the pages say results are not included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("markdown_it", reason="not run: markdown-it-py missing (the `site` extra)")

from spec import cli, site
from spec.rules import MUST, REGISTRY, Chapter, Source


class _Page(HTMLParser):
    """The ids and hrefs of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    site.build(out)
    return out


def test_every_rule_has_its_anchor_on_its_chapters_page(built: Path) -> None:
    pages = site.pages()
    assert len(pages) >= 8
    for page in pages:
        parsed = _parse(built / page.file)
        text = (built / page.file).read_text(encoding="utf-8")
        for rule in page.rules():
            assert rule.id in parsed.ids, f"{rule.id} has no anchor on {page.file}"
            assert f"{rule.level}</span>" in text.split(f"id='{rule.id}'")[1]
            for check in rule.checks:
                assert f"<code>{check.name}</code>" in text, f"{check.name} missing"
    on_pages = {rule.id for page in pages for rule in page.rules()}
    assert on_pages == set(REGISTRY), "every rule of the registry is on a chapter's page"


def test_links_resolve_to_files_anchors_and_lines(built: Path) -> None:
    checked_checks = checked_anchors = 0
    for path in sorted(built.glob("*.html")):
        for href in _parse(path).hrefs:
            if "://" in href:
                continue
            file, _, fragment = href.partition("#")
            target = (built / file).resolve() if file else path
            assert target.exists(), f"{path.name}: {href} reaches no file"
            if target.suffix == ".html" and fragment:
                assert fragment in _parse(target).ids, f"{path.name}: {href} reaches no anchor"
                checked_anchors += 1
            elif target.suffix == ".py" and fragment.startswith("L"):
                line = target.read_text(encoding="utf-8").splitlines()[int(fragment[1:]) - 1]
                assert line.lstrip().startswith(("@", "def ", "async def ")), (href, line)
                checked_checks += 1
    assert checked_checks >= len([c for r in REGISTRY.values() for c in r.checks])
    assert checked_anchors > len(REGISTRY), "every rule's own link, at least"


def test_prose_links_of_the_one_page_spec_are_rewritten(built: Path) -> None:
    parsing = (built / "sse-parsing.html").read_text(encoding="utf-8")
    assert 'href="sse-encoding.html"' in parsing, "#sse-encoding is the encoding chapter's page"
    tutorial = [h for h in _parse(built / "index.html").hrefs if "tutorial_published" in h]
    assert tutorial, "the introduction links to the published tutorial's cases"
    assert (built / tutorial[0]).resolve() == site.SPEC_DIR.parent / "peers/tutorial_published.py"


def test_the_pages_are_self_contained(built: Path) -> None:
    for path in built.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in ("<script", "<link", " src=", "url("):
            assert tag not in text, f"{path.name} has {tag}"


def test_without_a_matrix_the_pages_say_results_are_not_included(built: Path) -> None:
    for page in site.pages():
        text = (built / page.file).read_text(encoding="utf-8")
        assert text.count("Peers' results are not included") == len(page.rules())


def test_a_matrix_shows_each_peers_result(tmp_path: Path) -> None:
    first, second = next(iter(REGISTRY.values())), list(REGISTRY.values())[1]
    matrix = {
        "rules": [
            {"id": first.id, "results": {"peer-a": "pass", "peer-b": "fail"}},
            {"id": second.id, "results": {"peer-a": "not run", "peer-b": "pass"}},
        ]
    }
    (tmp_path / "matrix.json").write_text(json.dumps(matrix), encoding="utf-8")
    site.build(tmp_path / "out", [tmp_path / "matrix.json"])
    page = next(p for p in site.pages() if first in p.rules())
    text = (tmp_path / "out" / page.file).read_text(encoding="utf-8")
    section = text.split(f"id='{first.id}'")[1].split("</section>")[0]
    assert "<th>peer-a</th><td class='result pass'>pass</td>" in section
    assert "<th>peer-b</th><td class='result fail'>fail</td>" in section
    assert "not included" not in text


def test_streamspec_render_writes_the_site(tmp_path: Path) -> None:
    assert cli.main(["render", "--site", str(tmp_path / "out")]) == 0
    written = sorted(path.name for path in (tmp_path / "out").glob("*.html"))
    assert written == sorted(["index.html", *(page.file for page in site.pages())])


@pytest.fixture
def added_rule() -> Iterator[str]:
    """A rule declared in the surface chapter, with one check, for the test's duration."""
    rule = Chapter("spec.chapters.surface").rule(
        "SURFACE-SITE-99",
        MUST,
        "A rule added to a chapter MUST show up on its page.",
        Source("streamspec", "its site", "https://example.invalid/"),
        why="the site is built from the registry",
    )

    def check_added_rule_shows_up() -> None:
        """A check declared for the added rule."""

    rule.check(check_added_rule_shows_up)
    globals()["check_added_rule_shows_up"] = check_added_rule_shows_up
    try:
        yield rule.id
    finally:
        del REGISTRY[rule.id]
        del globals()["check_added_rule_shows_up"]


def test_a_rule_and_a_check_added_show_up(added_rule: str, tmp_path: Path) -> None:
    site.build(tmp_path)
    text = (tmp_path / "surface.html").read_text(encoding="utf-8")
    assert added_rule in _parse(tmp_path / "surface.html").ids
    assert "<code>check_added_rule_shows_up</code>" in text
    assert "the site is built from the registry" in text
    assert "test_site.py#L" in text, "the check links to this file"
