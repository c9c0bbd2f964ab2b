"""How long ``pytest spec`` takes on the reference and on every broken target of ``tests/broken``.

A suite that waits for what a broken target never sends turns a failure into a
hang. This script runs the whole spec, as a user runs it (a child
``python -m pytest spec -q --report-json=...``), against the reference app and
against every module-level ASGI app of ``tests/broken/*.py``, one at a time,
and prints a Markdown table: the wall time of each run, its ratio to the
reference's, whether it wrote its report, and the rules it failed. The last
line names the worst ratio; the suite's own promise is that it is at most 2.

The reference runs first and last, and the ratios are to the mean of its two
times. Run: ``python -m bench.broken_times`` (about half an hour on two cores); see
``--help`` for the options (``--targets`` to run some, ``--out`` for JSON).
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from starlette.applications import Starlette

import tests.broken

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "impl.app:app"


@dataclass
class Run:
    """One child run of the spec against *target*."""

    target: str
    seconds: float
    returncode: int | None
    reported: bool
    failing: list[str] = field(default_factory=list)
    not_observable: int = 0


def _is_asgi_app(value: object) -> bool:
    """A Starlette app, or a coroutine function of (scope, receive, send)."""
    if isinstance(value, Starlette):
        return True
    if inspect.iscoroutinefunction(value):
        return len(inspect.signature(value).parameters) == 3
    return False


def broken_targets() -> Iterator[str]:
    """``module:attr`` of every module-level ASGI app of ``tests/broken`` (public names only)."""
    for module_info in sorted(pkgutil.iter_modules(tests.broken.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"tests.broken.{module_info.name}")
        seen: set[int] = set()
        for name, value in vars(module).items():
            if name.startswith("_") or not _is_asgi_app(value) or id(value) in seen:
                continue
            if inspect.isfunction(value) and value.__module__ != module.__name__:
                continue  # a function imported from elsewhere, not one of this module's targets
            seen.add(id(value))
            yield f"{module.__name__}:{name}"


def run_spec(target: str, options: Sequence[str], guard: float, profile: str) -> Run:
    """One ``pytest spec`` run against *target*, killed after *guard* seconds (a hang guard)."""
    with tempfile.TemporaryDirectory(prefix="broken-times-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pytest", "spec", "-q", "-p", "no:cacheprovider",
            f"--report-json={report}", f"--target={target}", *options,
        ]  # fmt: skip
        env = {**os.environ, "HYPOTHESIS_PROFILE": profile}
        started = time.monotonic()
        try:
            completed = subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, timeout=guard, check=False
            )
            returncode: int | None = completed.returncode
        except subprocess.TimeoutExpired:
            returncode = None
        seconds = time.monotonic() - started
        if not report.exists():
            return Run(target, seconds, returncode, reported=False)
        rules = json.loads(report.read_text())["rules"]
        return Run(
            target,
            seconds,
            returncode,
            reported=True,
            failing=sorted(rule["id"] for rule in rules if rule["result"] == "fail"),
            not_observable=sum(rule["result"] == "not observable" for rule in rules),
        )


def table(runs: Sequence[Run], reference: float) -> list[str]:
    """The Markdown table of *runs*, the reference first, and the line naming the worst ratio.

    *reference* is the reference's time the ratios are taken to (the mean of its runs).
    """
    lines = [
        "| target | wall time (s) | x reference | exit | report | failing rules |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for run in runs:
        status = "killed" if run.returncode is None else str(run.returncode)
        failing = ", ".join(run.failing) if run.failing else "none"
        lines.append(
            f"| `{run.target}` | {run.seconds:.1f} | {run.seconds / reference:.2f} | {status} "
            f"| {'yes' if run.reported else 'NO'} | {failing} |"
        )
    broken = [run for run in runs if run.target != REFERENCE]
    worst = max(broken, key=lambda run: run.seconds, default=runs[0])
    lines.append("")
    lines.append(
        f"worst: `{worst.target}`, {worst.seconds:.1f} s, "
        f"{worst.seconds / reference:.2f}x the reference ({reference:.1f} s)"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--targets",
        default="*",
        help="comma-separated globs of module:attr to run (default: every broken target)",
    )
    parser.add_argument("--rules", default="", help="passed on as pytest spec --rules=...")
    parser.add_argument(
        "--guard",
        type=float,
        default=900.0,
        help="seconds after which a run is killed and reported as such (a hang guard)",
    )
    parser.add_argument(
        "--profile", default="ci", help="HYPOTHESIS_PROFILE of the runs (default ci, as tox)"
    )
    parser.add_argument("--list", action="store_true", help="print the targets and stop")
    parser.add_argument("--out", type=Path, default=None, help="write every run as JSON here")
    args = parser.parse_args(argv)
    patterns = [p.strip() for p in args.targets.split(",") if p.strip()]
    targets = [t for t in broken_targets() if any(fnmatch.fnmatchcase(t, p) for p in patterns)]
    if args.list:
        print("\n".join(targets))
        return 0
    options = [f"--rules={args.rules}"] if args.rules else []
    runs: list[Run] = []
    # The reference runs first and last: on a machine whose load changes, the ratios are
    # taken to the mean of the two.
    for target in [REFERENCE, *targets, REFERENCE]:
        run = run_spec(target, options, args.guard, args.profile)
        runs.append(run)
        print(
            f"{target}: {run.seconds:.1f} s, exit {run.returncode}, failing {len(run.failing)}",
            file=sys.stderr,
            flush=True,
        )
        if args.out is not None:
            args.out.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")
    references = [run.seconds for run in runs if run.target == REFERENCE]
    reference = sum(references) / len(references)
    print("\n".join(table(runs, reference)))
    return 0 if all(run.seconds <= 2 * reference for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
