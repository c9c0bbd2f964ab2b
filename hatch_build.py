"""The wheel's one import name, ``streamspec``: spec/ installed as ``streamspec``, impl/ as
``streamspec.impl``.

In the repository the suite is the package ``spec`` and the reference app ``impl`` (the
project's layout); installed under those generic names they would collide with other
projects' folders and with unrelated PyPI packages. hatch's ``sources`` option can move
spec/ to streamspec/ in a wheel, but not rename the imports inside its files, and its
editable mode refuses such a move (pfmoore/editables#20); no packaging tool renames a
package's own imports, so this hook does, with the tokenizer rather than by text:

- the wheel (``pip install .``, ``python -m build``): every file of spec/ and impl/ is
  written under streamspec/ and streamspec/impl/; in Python files, the module named by an
  ``import`` or ``from`` statement, and a string constant or docstring naming one of the
  project's own modules (``"impl.app:app"``, ``"spec.plugin"``, ``:mod:`spec.kit```), say
  ``streamspec`` and ``streamspec.impl`` instead. Nothing else of the project is shipped.
- the editable install (``pip install -e .``, tox): the checkout's root is on the path, so
  ``spec`` and ``impl`` import as they are, and ``streamspec_dev.py`` aliases
  ``streamspec`` to them, so the entry points and a user's ``from streamspec.kit import Kit``
  work in a checkout too.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import tokenize
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DISTRIBUTION = "streamspec"
PACKAGES = {"spec": "streamspec", "impl": "streamspec.impl"}
"""Each package of the checkout, and its import name in the wheel."""

ALIAS_MODULE = "streamspec_dev"
"""The checkout's module that aliases ``streamspec`` in an editable install."""

_SKIPPED = {"__pycache__", ".mypy_cache", ".ruff_cache"}


def module_names(root: Path) -> frozenset[str]:
    """Every module and package of the checkout's :data:`PACKAGES`, dotted (``spec.kit.app``)."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.add(".".join(parts))
    return frozenset(names)


def installed_name(name: str) -> str:
    """*name* (``spec.kit``, ``impl.app``, ``spec``) as the wheel names it."""
    head, dot, rest = name.partition(".")
    return PACKAGES[head] + dot + rest


_DOTTED = re.compile(r"(?<![\w.])(spec|impl)((?:\.\w+)*)")


def rewrite_text(text: str, modules: frozenset[str]) -> str:
    """*text* (a string's contents) with each dotted name of one of *modules* renamed.

    A dotted name is renamed when it, or its longest prefix, is one of the project's
    modules (``spec.kit.Kit`` names ``spec.kit``); prose such as "the spec." is left.
    """

    def rename(match: re.Match[str]) -> str:
        name = match.group(0)
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if end > 1 and ".".join(parts[:end]) in modules:
                return installed_name(name)
        return name

    return _DOTTED.sub(rename, text)


def rewrite_source(source: str, modules: frozenset[str]) -> str:
    """*source* (a Python file of the checkout) as the wheel ships it.

    Renamed: the module after ``from`` in ``from spec.x import y``; each module of an
    ``import spec.x, impl.y`` statement; the project's dotted module names in string
    constants. Nothing else changes: names imported *from* a module, identifiers and
    comments keep their text.
    """
    edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    statement: str | None = None
    expect_module = False
    for index, token in enumerate(tokens):
        if token.type == tokenize.NEWLINE:
            statement, expect_module = None, False
            continue
        if (
            token.type == tokenize.NAME
            and token.string in ("from", "import")
            and statement is None
            and _starts_line(tokens, index)
        ):
            statement, expect_module = token.string, True
            continue
        if expect_module and token.type == tokenize.NAME:
            name = _dotted_at(tokens, index)
            if name.split(".")[0] in PACKAGES and name in modules | set(PACKAGES):
                end = tokens[index + 2 * name.count(".")].end
                edits.append((token.start, end, installed_name(name)))
            expect_module = False
            continue
        if expect_module and token.type == tokenize.OP and token.string == ".":
            expect_module = False  # a relative import names no package of ours
        if statement == "import" and token.type == tokenize.OP and token.string == ",":
            expect_module = True
        elif token.type == tokenize.STRING:
            new = rewrite_text(token.string, modules)
            if new != token.string:
                edits.append((token.start, token.end, new))
    return _apply(source, edits)


def _starts_line(tokens: list[tokenize.TokenInfo], index: int) -> bool:
    previous = next(
        (t for t in reversed(tokens[:index]) if t.type not in (tokenize.INDENT, tokenize.DEDENT)),
        None,
    )
    if previous is None:
        return True
    line_ends = (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENCODING)
    return previous.type in line_ends or (previous.type == tokenize.OP and previous.string == ";")


def _dotted_at(tokens: list[tokenize.TokenInfo], index: int) -> str:
    parts = [tokens[index].string]
    cursor = index + 1
    while (
        cursor + 1 < len(tokens)
        and tokens[cursor].string == "."
        and tokens[cursor + 1].type == tokenize.NAME
    ):
        parts.append(tokens[cursor + 1].string)
        cursor += 2
    return ".".join(parts)


def _apply(source: str, edits: list[tuple[tuple[int, int], tuple[int, int], str]]) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(position: tuple[int, int]) -> int:
        return offsets[position[0] - 1] + position[1]

    result, cursor = [], 0
    for start, end, new in sorted(edits):
        result += [source[cursor : at(start)], new]
        cursor = at(end)
    result.append(source[cursor:])
    return "".join(result)


def write_installed_tree(root: Path, out: Path) -> None:
    """Write the wheel's streamspec/ under *out* from the checkout at *root*."""
    modules = module_names(root)
    for package, name in PACKAGES.items():
        target_dir = out.joinpath(*name.split("."))
        for path in sorted((root / package).rglob("*")):
            relative = path.relative_to(root / package)
            if path.is_dir() or _SKIPPED & set(relative.parts) or path.suffix == ".pyc":
                continue
            target = target_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".py":
                source = path.read_text(encoding="utf-8")
                target.write_text(rewrite_source(source, modules), encoding="utf-8")
            else:
                shutil.copyfile(path, target)


class StreamspecBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Ships the renamed tree in the wheel, the alias in an editable install."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        self._scratch = Path(tempfile.mkdtemp(prefix="streamspec-build-"))
        if version == "editable":
            pth = self._scratch / f"_{DISTRIBUTION}_alias.pth"
            pth.write_text(f"import {ALIAS_MODULE}\n", encoding="utf-8")
            build_data["force_include"][str(pth)] = pth.name
            return
        write_installed_tree(root, self._scratch)
        build_data["force_include"][str(self._scratch / DISTRIBUTION)] = DISTRIBUTION

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)
