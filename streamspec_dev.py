"""In a checkout's editable install, ``streamspec`` is the checkout's ``spec``, and
``streamspec.impl`` its ``impl``: the same module objects under the installed names.

The wheel ships spec/ renamed to ``streamspec`` (hatch_build.py says why and how). A
checkout imports ``spec`` and ``impl`` as they are; an editable install's ``.pth`` file
imports this module, which puts a finder first on ``sys.meta_path`` so that the console
script (``streamspec.cli:main``), the pytest11 entry point (``streamspec.pytest_entry``) and
a user's ``from streamspec.kit import Kit`` work there too. An alias, not a second import
of the same files: ``streamspec.kit.Kit is spec.kit.Kit``, so nothing exists twice.
editables (what hatch uses for editable installs otherwise) maps a name to a folder, which
would import every file a second time under the other name.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

ALIASES = (("streamspec.impl", "impl"), ("streamspec", "spec"))
"""Each installed name and the checkout's name it stands for, the longest first."""


def checkout_name(name: str) -> str | None:
    """The checkout's module that the installed *name* stands for, or ``None``."""
    for installed, checkout in ALIASES:
        if name == installed or name.startswith(installed + "."):
            return checkout + name[len(installed) :]
    return None


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``streamspec.*`` as the module of the checkout's name, already imported or not."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        real = checkout_name(fullname)
        if real is None:
            return None
        module = importlib.import_module(real)
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, self, is_package=is_package)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        real = checkout_name(spec.name)
        assert real is not None
        module = sys.modules[real]
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run, the module ran under its checkout name; give it back the
        ``__spec__`` that the import system replaced with the alias'."""
        alias = module.__spec__
        assert alias is not None
        module.__spec__ = self._specs.pop(alias.name)


def install() -> None:
    """Put the finder first on ``sys.meta_path``, once."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())


install()
