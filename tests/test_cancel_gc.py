"""A producer whose cleanup only the cyclic garbage collector would run fails every time.

Before the suite turned the collector off during CANCEL checks, whether such a
producer's ``finally`` ran within the check's window depended on when the
collector ran, so a library passed one run and failed the next (the matrix's
Quart and Starlette cells flipped).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run_suite import run_spec


@pytest.mark.parametrize("attempt", range(3))
def test_cleanup_left_to_the_collector_fails(tmp_path: Path, attempt: int) -> None:
    run = run_spec(tmp_path, "--rules=CANCEL-CLEANUP-01", "--target=tests.broken.gc_cleanup:app")
    assert run.results()["CANCEL-CLEANUP-01"] == "fail", run.output
