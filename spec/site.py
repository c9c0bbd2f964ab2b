"""Render the spec as a small static site: an index and one HTML page a chapter.

``python -m spec.site --out site/`` (or ``streamspec render --site site/``)
writes ``index.html`` (the introduction and the contents) and ``<chapter>.html``
for each chapter into the folder. The pages
are built from the same records as ``spec/README.md`` (:mod:`spec.render`): the
chapters' docstrings, the rule records and the checks; nothing is parsed back
from the rendered Markdown. Each rule has an anchor (its ID), its statement,
level, source link, *why* when set, and its checks, each linked to its function's
file and line in the repository.

Given ``--matrix`` (``reports/matrix/matrix.json`` of ``tox -e matrix``, or
``reports/clients/matrix.json`` of ``tox -e clients``, once or more), each rule
shows the peers' results for it; without one, the pages say that results are
not included.

The pages are self-contained: inline CSS, no script, no external asset, so they
read offline from the folder they are written to. Links to checks are relative
paths from that folder to the check's file in the checkout, with ``#L<line>``:
they open offline in the checkout (a browser shows the file; the fragment is
ignored) and on a forge that renders ``#L`` as a line (GitHub, when the site is
published from the repository's tree, e.g. ``site/`` at its root). Rendering a
copy of each source file was the other choice; it doubles what is published for
little.

Chapter prose is Markdown, turned into HTML by markdown-it-py (the ``site``
extra): a maintained CommonMark-compliant parser with a token stream, which is
what lets this module rewrite the prose's links for the site (an anchor of the
one-page spec, ``#sse-encoding``, becomes ``sse-encoding.html``; a relative path
from ``spec/`` is rebased onto the output folder) instead of writing a parser.
"""

from __future__ import annotations

import argparse
import html
import inspect
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from spec import chapters, render
from spec.rules import Check, Rule, chapter_title

SPEC_DIR = Path(render.__file__).resolve().parent
NO_RESULTS = (
    "Peers' results are not included: no matrix was given (<code>tox -e matrix</code> "
    "writes <code>reports/matrix/matrix.json</code>; pass it as <code>--matrix</code>)."
)

_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1b1b1b; }
code, pre { font-family: ui-monospace, monospace; font-size: 90%; }
pre { background: #f4f4f4; padding: .6rem; overflow-x: auto; }
nav.top { margin-bottom: 1rem; }
section.rule { border-top: 1px solid #ccc; margin-top: 1.5rem; padding-top: .5rem; }
section.rule:target { background: #fff8d0; }
.level { font-size: 80%; padding: 0 .4rem; border-radius: .3rem; background: #dde; }
.level.MUST { background: #f3d1d1; }
.source { font-style: italic; }
table.results { border-collapse: collapse; }
table.results td, table.results th { border: 1px solid #ccc; padding: .1rem .5rem;
       text-align: left; }
td.pass { background: #d4efd4; } td.fail { background: #f3c6c6; }
p.no-results { color: #666; }
"""


@dataclass(frozen=True)
class Page:
    """One chapter's page: its module, file name (``cancel.html``) and title."""

    module: ModuleType
    number: int

    @property
    def anchor(self) -> str:
        return render._anchor(self.module)

    @property
    def file(self) -> str:
        return f"{self.anchor}.html"

    @property
    def title(self) -> str:
        return chapter_title(self.module.__name__)

    def rules(self) -> list[Rule]:
        return render._chapter_of(self.module).rules()


@dataclass(frozen=True)
class Results:
    """The peers' results by rule ID, from one or more matrix JSON files."""

    by_rule: dict[str, list[tuple[str, str]]]
    given: bool


def load_results(paths: Sequence[Path]) -> Results:
    """Each rule's ``(peer label, result)`` pairs from the matrices at *paths*."""
    by_rule: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        matrix: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for row in matrix["rules"]:
            by_rule.setdefault(row["id"], []).extend(
                (str(label), str(result)) for label, result in row["results"].items()
            )
    return Results(by_rule, bool(paths))


def pages() -> list[Page]:
    """The chapters in the order of the rendered spec."""
    return [Page(module, number) for number, module in enumerate(chapters.load_all(), 1)]


def check_location(check: Check) -> tuple[Path, int]:
    """The file and first line of *check*'s function."""
    function = inspect.unwrap(getattr(sys.modules[check.module], check.name))
    _, line = inspect.getsourcelines(function)
    return Path(inspect.getsourcefile(function) or "").resolve(), line


class _Prose:
    """Markdown to HTML, with the one-page spec's links rewritten for the site."""

    def __init__(self, out: Path, targets: dict[str, str]) -> None:
        self._md = MarkdownIt("commonmark", {"html": True}).enable("table")
        self._out = out
        self._targets = targets

    def href(self, href: str) -> str:
        """*href* of the one-page spec (``spec/README.md``), as the site's pages reach it."""
        if href.startswith("#"):
            return self._targets.get(href[1:], href)
        if "://" in href or href.startswith("mailto:"):
            return href
        path, hash_, fragment = href.partition("#")
        rebased = os.path.relpath((SPEC_DIR / path).resolve(), self._out)
        return rebased + hash_ + fragment

    def _rewrite(self, tokens: list[Token]) -> None:
        for token in tokens:
            if token.type == "link_open":
                token.attrSet("href", self.href(str(token.attrGet("href") or "")))
            if token.children:
                self._rewrite(token.children)

    def html(self, text: str) -> str:
        tokens = self._md.parse(render._markdown(text))
        self._rewrite(tokens)
        return str(self._md.renderer.render(tokens, self._md.options, {}))


def _document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def _nav(all_pages: list[Page], page: Page | None) -> str:
    links = ["<a href='index.html'>Contents</a>"]
    if page is not None:
        if page.number > 1:
            before = all_pages[page.number - 2]
            links.append(f"<a href='{before.file}'>&larr; {html.escape(before.title)}</a>")
        if page.number < len(all_pages):
            after = all_pages[page.number]
            links.append(f"<a href='{after.file}'>{html.escape(after.title)} &rarr;</a>")
    return f"<nav class='top'>{' | '.join(links)}</nav>"


def _results(rule: Rule, results: Results) -> str:
    if not results.given:
        return f"<p class='no-results'>{NO_RESULTS}</p>"
    rows = results.by_rule.get(rule.id)
    if not rows:
        return "<p class='no-results'>No peer in the given matrices ran this rule.</p>"
    cells = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        f"<td class='result {html.escape(result)}'>{html.escape(result)}</td></tr>"
        for label, result in rows
    )
    return f"<table class='results'><caption>Peers' results</caption>{cells}</table>"


def render_rule(rule: Rule, prose: _Prose, out: Path, results: Results) -> str:
    """One rule as an HTML section whose id is the rule's ID."""
    parts = [
        f"<section class='rule' id='{rule.id}'>",
        f"<h3><a href='#{rule.id}'>{rule.id}</a> "
        f"<span class='level {rule.level}'>{rule.level}</span></h3>",
        prose.html(rule.statement),
        f"<p class='source'>Source: <a href='{html.escape(prose.href(rule.source.url))}'>"
        f"{html.escape(str(rule.source))}</a></p>",
    ]
    if rule.why:
        why = prose.html(f"*{render.why_label(rule)}* {rule.why}")
        parts.append(why.replace("<p>", "<p class='why'>", 1))
    if rule.checks:
        parts.append("<p>Checks:</p><ul class='checks'>")
        for check in rule.checks:
            path, line = check_location(check)
            href = f"{os.path.relpath(path, out)}#L{line}"
            parts.append(
                f"<li><a class='check' href='{html.escape(href)}'><code>{check.name}</code></a>"
                f"{prose.html(check.doc)}</li>"
            )
        parts.append("</ul>")
    parts += [_results(rule, results), "</section>"]
    return "\n".join(parts)


def _targets(all_pages: list[Page]) -> dict[str, str]:
    """Where each anchor of the one-page spec lives on the site."""
    targets = {"sources": "index.html#sources"}
    for page in all_pages:
        targets[page.anchor] = page.file
        targets.update({rule.id: f"{page.file}#{rule.id}" for rule in page.rules()})
    return targets


def _index(all_pages: list[Page], prose: _Prose, results: Results) -> str:
    intro = render._PREAMBLE.split("\n", 1)[1]
    contents = "".join(
        f"<li><a href='{page.file}'>{html.escape(page.title)}</a> ({len(page.rules())} rules)</li>"
        for page in all_pages
    )
    note = "" if results.given else f"<p class='no-results'>{NO_RESULTS}</p>"
    body = (
        "<h1>The streamspec specification</h1>\n"
        f"{prose.html(intro)}\n<h2>Contents</h2>\n<ol class='contents'>{contents}</ol>\n{note}"
    )
    return _document("The streamspec specification", body)


def _chapter(all_pages: list[Page], page: Page, prose: _Prose, out: Path, results: Results) -> str:
    doc = inspect.getdoc(page.module) or ""
    title, _, text = doc.partition("\n")
    body = [
        _nav(all_pages, page),
        f"<h1 id='{page.anchor}'>{page.number}. {html.escape(title.rstrip('.'))}</h1>",
        prose.html(text.strip()),
        *(render_rule(rule, prose, out, results) for rule in page.rules()),
        _nav(all_pages, page),
    ]
    return _document(f"{page.number}. {page.title}: streamspec", "\n".join(body))


def build(out: Path, matrices: Sequence[Path] = ()) -> list[Path]:
    """Write the site into *out*; return the files written (the index first)."""
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    all_pages = pages()
    prose = _Prose(out, _targets(all_pages))
    results = load_results(matrices)
    written = [out / "index.html"]
    written[0].write_text(_index(all_pages, prose, results), encoding="utf-8")
    for page in all_pages:
        path = out / page.file
        path.write_text(_chapter(all_pages, page, prose, out, results), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spec.site",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("site"))
    parser.add_argument(
        "--matrix",
        type=Path,
        action="append",
        default=[],
        help="a matrix.json whose results to show (repeatable)",
    )
    args = parser.parse_args(argv)
    written = build(args.out, args.matrix)
    print(f"wrote {len(written)} pages into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
