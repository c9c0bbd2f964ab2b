"""A pytest plugin whose report hook raises for every failed check, as CPython 3.11.7 did.

Loaded into a child run (``-p tests.crashing_report_hook``), it stands in for
issue 11 on every CPython: an old-style hookwrapper of
``pytest_runtest_makereport``, like hypothesis' own, that raises the
``SystemError`` pytest's traceback formatting raised when two threads parsed at
once. The suite must still end the check as a failing rule and write its report.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

MESSAGE = "AST constructor recursion depth mismatch (before=120, after=84)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Raise :data:`MESSAGE` once the report of a check that raised has been made."""
    yield
    if call.when == "call" and call.excinfo is not None:
        raise SystemError(MESSAGE)
