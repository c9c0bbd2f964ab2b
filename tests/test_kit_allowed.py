"""Kit targets that take a liberty the surface allows pass the rules it touches.

Child ``pytest spec --target=tests.allowed.kit_apps:NAME`` runs, read through
their JSON reports: every rule the app is listed with in
:data:`tests.allowed.kit_apps.ALLOWED` passes.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from tests.allowed import kit_apps
from tests.run_suite import run_spec


@pytest.mark.parametrize("name", sorted(kit_apps.ALLOWED))
def test_allowed_kit_target_passes(tmp_path: Path, name: str) -> None:
    rules = kit_apps.ALLOWED[name]
    run = run_spec(tmp_path, f"--rules={rules}", f"--target=tests.allowed.kit_apps:{name}")
    patterns = rules.split(",")
    results = {r: v for r, v in run.results().items() if any(fnmatchcase(r, p) for p in patterns)}
    assert results, run.output
    assert {rule: result for rule, result in results.items() if result != "pass"} == {}, run.output
    assert run.returncode == 0, run.output
