"""Reach the check functions of a chapter, to run them against broken implementations."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from spec.rules import REGISTRY


def checks_of(prefix: str) -> list[tuple[str, str, Callable[..., Any]]]:
    """``(rule ID, check name, function)`` for every check of the rules whose ID starts so."""
    found = []
    for rule in REGISTRY.values():
        if rule.id.startswith(prefix):
            for check in rule.checks:
                function = getattr(importlib.import_module(check.module), check.name)
                found.append((rule.id, check.name, function))
    return found


def is_property(function: Callable[..., Any]) -> bool:
    """Whether the check is a hypothesis property (run by pytest, not called directly)."""
    return hasattr(function, "hypothesis")
