"""The chapters of the spec, in reading order.

Each chapter is a module: its docstring is the chapter's prose (Markdown), its
rules are declared with :class:`spec.rules.Chapter`, and its checks are the
pytest functions decorated with ``rule.check`` beside them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

CHAPTERS = (
    "spec.chapters.sse_parsing",
    "spec.chapters.sse_client",
    "spec.chapters.sse_encoding",
    "spec.chapters.chunk",
    "spec.chapters.cancel",
    "spec.chapters.instances",
    "spec.chapters.headers",
    "spec.chapters.file",
    "spec.chapters.http2",
    "spec.chapters.ndjson",
    "spec.chapters.chat",
    "spec.chapters.surface",
)


def load_all() -> list[ModuleType]:
    """Import every chapter (declaring all rules) and return the modules in order."""
    return [importlib.import_module(name) for name in CHAPTERS]
