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
from typing import Any

import pytest

pytest.importorskip("markdown_it", reason="not run: markdown-it-py missing (the `site` extra)")

from spec import cli, matrix, site
from spec.report import FAIL, PASS
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


def _report(target: str, results: dict[str, str]) -> dict[str, Any]:
    """A JSON report of one target with *results* by rule ID, as spec.report writes it."""
    rules = [
        {
            "id": rule_id,
            "level": str(REGISTRY[rule_id].level),
            "statement": REGISTRY[rule_id].statement,
            "about": REGISTRY[rule_id].subject,
            "result": result,
        }
        for rule_id, result in results.items()
    ]
    return {"target": target, "label": target, "rules": rules, "totals": {}}


def test_the_matrices_show_each_peers_result(tmp_path: Path) -> None:
    """Two matrices as spec.matrix merges them (peers, and SSE clients), given together."""
    first, second = "SSE-ENC-01", "SSE-ENC-02"
    peers = matrix.merge(
        [_report("peer-a", {first: PASS, second: PASS}), _report("peer-b", {first: FAIL})]
    )
    clients = matrix.merge([_report("client-c", {"SSE-CLIENT-01": PASS})], clients=True)
    paths = [tmp_path / "peers.json", tmp_path / "clients.json"]
    for path, merged in zip(paths, (peers, clients), strict=True):
        path.write_text(json.dumps(merged), encoding="utf-8")
    site.build(tmp_path / "out", paths)

    def section(file: str, rule_id: str) -> str:
        text = (tmp_path / "out" / file).read_text(encoding="utf-8")
        assert "not included" not in text
        return text.split(f"id='{rule_id}'")[1].split("</section>")[0]

    ran_first = section("sse-encoding.html", first)
    assert "<th>peer-a</th><td class='result pass'>pass</td>" in ran_first
    assert "<th>peer-b</th><td class='result fail'>fail</td>" in ran_first
    assert "<th>peer-b</th><td class='result not run'>not run</td>" in section(
        "sse-encoding.html", second
    )
    assert "No peer in the given matrices ran this rule" in section(
        "sse-encoding.html", "SSE-ENC-03"
    )
    assert "<th>client-c</th><td class='result pass'>pass</td>" in section(
        "sse-client.html", "SSE-CLIENT-01"
    )


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
    assert "<p class='why'><em>Why:</em> the site is built from the registry</p>" in text
    assert "test_site.py#L" in text, "the check links to this file"
