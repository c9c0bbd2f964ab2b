"""The bench as a product: ``python -m bench run`` at tiny sizes writes its table, JSON and plots.

No figure is judged (a duration is never a verdict): only that the command
runs every contender asked for, in one run, and writes what it says it
writes. The plots need the ``bench`` extra (matplotlib); without it the run
is made with ``--no-plots`` and the PNGs are not looked for. The peers that
need the ``matrix`` extra (sse-starlette) are run only where it is installed
(``tox -e bench``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLOTS = importlib.util.find_spec("matplotlib") is not None
MATRIX = importlib.util.find_spec("sse_starlette") is not None
CONTENDERS = ["reference", "starlette", "fastapi", "tutorial"] + (
    ["sse-starlette"] if MATRIX else []
)
BENCH_SCRIPTS = [
    "bench", "bench.suite", "bench.sse_apps", "bench.cancel_cost", "bench.file_download",
    "bench.busy_machine", "bench.broken_times",
]  # fmt: skip


def test_bench_run_writes_table_results_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "results"
    command = [
        sys.executable, "-m", "bench", "run", "--contenders", ",".join(CONTENDERS),
        "--events", "300", "--rounds", "2", "--concurrency", "1,3",
        "--concurrent-events", "60",
        "--idle", "4", "--out", str(out),
    ] + ([] if PLOTS else ["--no-plots"])  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = (out / "table.md").read_text()
    assert done.stdout.startswith(table)
    for name in CONTENDERS:
        assert f"| {name} |" in table
    assert "load average" in table
    results = json.loads((out / "results.json").read_text())
    assert set(results["single"]) == set(CONTENDERS)
    assert all(len(rounds) == 2 for rounds in results["single"].values())
    assert set(results["concurrent"]["reference"]) == {"1", "3"}
    assert [row["streams"] for row in results["idle"]["reference"]] == [0, 4]
    assert all(row["fresh_ms"] > 0 for row in results["idle"]["reference"])
    assert "fresh request with 4 idle" in table
    if PLOTS:
        for name in ("sse_events_per_second", "sse_concurrency", "sse_idle_memory"):
            assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("script", BENCH_SCRIPTS)
def test_every_bench_script_answers_help_without_running(script: str) -> None:
    arguments = ["run", "--help"] if script == "bench" else ["--help"]
    done = subprocess.run(
        [sys.executable, "-m", script, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")
