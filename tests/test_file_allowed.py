"""The FILE chapter passes downloads that take a liberty its text allows.

Child ``pytest spec --target=tests.allowed.file_apps:NAME`` runs, read through
their JSON reports: every rule the app is listed with in
:data:`tests.allowed.file_apps.ALLOWED` passes (none fails, none is skipped
for want of an answer), hypothesis properties included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.allowed import file_apps
from tests.run_suite import assert_allowed_passes


@pytest.mark.parametrize("name", sorted(file_apps.ALLOWED))
def test_allowed_download_passes(tmp_path: Path, name: str) -> None:
    assert_allowed_passes(tmp_path, f"tests.allowed.file_apps:{name}", file_apps.ALLOWED[name])
