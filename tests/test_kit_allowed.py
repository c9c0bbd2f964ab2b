"""Kit targets that take a liberty the surface allows pass the rules it touches.

Child ``pytest spec --target=tests.allowed.kit_apps:NAME`` runs, read through
their JSON reports: every rule the app is listed with in
:data:`tests.allowed.kit_apps.ALLOWED` passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.allowed import kit_apps
from tests.run_suite import assert_allowed_passes


@pytest.mark.parametrize("name", sorted(kit_apps.ALLOWED))
def test_allowed_kit_target_passes(tmp_path: Path, name: str) -> None:
    assert_allowed_passes(tmp_path, f"tests.allowed.kit_apps:{name}", kit_apps.ALLOWED[name])
