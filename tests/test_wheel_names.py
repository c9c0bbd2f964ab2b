"""The wheel's renaming of ``spec`` to ``streamspec`` and ``impl`` to ``streamspec.impl``
(hatch_build.py): what it renames, what it leaves, and the whole tree it writes.

tests/test_installed.py runs the built wheel; these say, faster and one case at a time,
why the tree it ships imports nothing by the checkout's names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hatch_build
from tests.run_suite import ROOT

MODULES = hatch_build.module_names(ROOT)


@pytest.mark.parametrize(
    ("source", "shipped"),
    [
        ("from spec.kit import Kit\n", "from streamspec.kit import Kit\n"),
        ("from spec import chapters, render\n", "from streamspec import chapters, render\n"),
        ("from impl.app import create_app\n", "from streamspec.impl.app import create_app\n"),
        ("import spec.kit.api as api\n", "import streamspec.kit.api as api\n"),
        ("import os, impl.settings\n", "import os, streamspec.impl.settings\n"),
        (
            "if TYPE_CHECKING:\n    from spec.rules import Rule\n",
            "if TYPE_CHECKING:\n    from streamspec.rules import Rule\n",
        ),
        (
            "from spec.kit.api import (\n    SSE,\n    Stream,\n)\n",
            "from streamspec.kit.api import (\n    SSE,\n    Stream,\n)\n",
        ),
        ('DEFAULT = "impl.app:app"\n', 'DEFAULT = "streamspec.impl.app:app"\n'),
        ('plugins = ["spec.plugin"]\n', 'plugins = ["streamspec.plugin"]\n'),
        ('"""See :mod:`spec.kit.api`."""\n', '"""See :mod:`streamspec.kit.api`."""\n'),
        ('"""Serves :class:`spec.kit.Kit`."""\n', '"""Serves :class:`streamspec.kit.Kit`."""\n'),
    ],
)
def test_what_is_renamed(source: str, shipped: str) -> None:
    assert hatch_build.rewrite_source(source, MODULES) == shipped


@pytest.mark.parametrize(
    "source",
    [
        "from os import path as spec\n",
        "from . import impl\n",
        "from .spec import x\n",
        "spec = load()\nspec.kit = 1\n",
        "rule.spec.kit()\n",
        '"""Read the spec. It says spec.md and spec/chapters/file.py."""\n',
        '"""The spec.nothing module does not exist."""\n',
        "# from spec.kit import Kit\n",
        'x = f"spec rule {rule.id}"\n',
    ],
)
def test_what_is_left(source: str) -> None:
    assert hatch_build.rewrite_source(source, MODULES) == source


def test_the_shipped_tree_imports_only_streamspec(tmp_path: Path) -> None:
    """Every Python file of spec/ and impl/, as shipped: it parses, and no import statement
    names ``spec`` or ``impl``; every other file is copied as it is."""
    hatch_build.write_installed_tree(ROOT, tmp_path)
    shipped = tmp_path / "streamspec"
    sources = sorted(shipped.rglob("*.py"))
    assert shipped / "impl" / "app.py" in sources
    assert shipped / "kit" / "app.py" in sources
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                assert name.split(".")[0] not in ("spec", "impl"), f"{path}: imports {name}"
    for relative in ("report.schema.json", "intermediaries/nginx/sse-location.conf"):
        assert (shipped / relative).read_bytes() == (ROOT / "spec" / relative).read_bytes()
    assert (shipped / "impl" / "static" / "eventsource.html").is_file()
