"""Call a check function directly with each of its ``pytest.mark.parametrize`` combinations."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any


def parameter_sets(function: Callable[..., Any]) -> list[dict[str, Any]]:
    """Every combination of the function's parametrize marks, as keyword arguments."""
    axes: list[list[dict[str, Any]]] = []
    for mark in getattr(function, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        rows = [v if len(names) > 1 else (v,) for v in values]
        axes.append([dict(zip(names, row, strict=True)) for row in rows])
    combos = []
    for choice in itertools.product(*axes):
        merged: dict[str, Any] = {}
        for part in choice:
            merged.update(part)
        combos.append(merged)
    return combos


def call_with(
    function: Callable[..., Any], fixtures: dict[str, Any], params: dict[str, Any]
) -> Any:
    """Call *function* with the fixtures it names and *params*."""
    wanted = inspect.signature(function).parameters
    kwargs = {name: fixtures[name] for name in wanted if name in fixtures and name not in params}
    return function(**kwargs, **params)
