"""The same verdict on a busy machine: the spec against the reference, again and again, under load.

Starts ``--hogs`` processes that spin on the CPU (one per core by default, so
every core is saturated), then runs the whole spec against the reference app,
as a user runs it (``python -m pytest spec -q --report-json=...``), ``--runs``
times in a row. Each run prints its result, its wall time and any rule that
did not pass; the last line says how many runs were green. A verdict that
depends on timing shows here as a run that is not.

Run: ``python -m bench.busy_machine`` (about a minute a run on two busy
cores); ``--rules`` narrows the spec, ``--out`` writes every run as JSON.
Not part of tox: it measures the suite's robustness, it is not a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One run of the spec: green when it exited 0 and every rule in its report passed or
    did not apply."""

    number: int
    seconds: float
    returncode: int | None
    green: bool
    not_green: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def spin() -> None:
    """Burn one core until killed."""
    count = 0
    while True:
        count += 1


def run_spec(number: int, options: Sequence[str], guard: float, profile: str) -> Run:
    """One ``pytest spec`` run against the reference, killed after *guard* seconds."""
    with tempfile.TemporaryDirectory(prefix="busy-machine-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pytest", "spec", "-q", "-p", "no:cacheprovider",
            f"--report-json={report}", *options,
        ]  # fmt: skip
        env = {**os.environ, "HYPOTHESIS_PROFILE": profile}
        started = time.monotonic()
        try:
            completed = subprocess.run(
                command,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=guard,
                check=False,
            )
            returncode: int | None = completed.returncode
        except subprocess.TimeoutExpired:
            returncode = None
        seconds = time.monotonic() - started
        if not report.exists():
            return Run(number, seconds, returncode, green=False, not_green={"(no report)": ""})
        rules = json.loads(report.read_text())["rules"]
    bad = {
        rule["id"]: rule["result"]
        for rule in rules
        if rule["result"] not in ("pass", "not applicable", "not run")
    }
    messages = [
        f"{rule['id']} {check['nodeid'].split('::')[-1]}: {check['message'][:300]}"
        for rule in rules
        if rule["id"] in bad
        for check in rule["checks"]
        if check["outcome"] != "pass"
    ]
    return Run(number, seconds, returncode, returncode == 0 and not bad, bad, messages)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of the spec (default 20)")
    parser.add_argument(
        "--hogs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes spinning on the CPU meanwhile (default: one per core)",
    )
    parser.add_argument("--rules", default="", help="passed on as pytest spec --rules=...")
    parser.add_argument(
        "--profile", default="ci", help="HYPOTHESIS_PROFILE of the runs (default ci, as tox)"
    )
    parser.add_argument(
        "--guard", type=float, default=1200.0, help="seconds after which a run is killed"
    )
    parser.add_argument("--out", type=Path, default=None, help="write every run as JSON here")
    args = parser.parse_args(argv)
    options = [f"--rules={args.rules}"] if args.rules else []
    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    print(f"{args.hogs} CPU hogs spinning on {os.cpu_count()} cores", flush=True)
    runs: list[Run] = []
    try:
        for number in range(1, args.runs + 1):
            run = run_spec(number, options, args.guard, args.profile)
            runs.append(run)
            load = os.getloadavg()[0]
            verdict = "green" if run.green else "NOT GREEN"
            print(
                f"run {number}/{args.runs}: {verdict}, {run.seconds:.1f} s, "
                f"exit {run.returncode}, load {load:.1f}"
                + (f", rules: {run.not_green}" if run.not_green else ""),
                flush=True,
            )
            for message in run.messages:
                print(f"    {message}", flush=True)
            if args.out is not None:
                args.out.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")
    finally:
        for hog in hogs:
            hog.kill()
            hog.join()
    green = sum(run.green for run in runs)
    print(f"{green} of {len(runs)} green")
    return 0 if green == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
