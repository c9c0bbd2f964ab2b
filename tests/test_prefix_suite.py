"""The whole suite against the reference mounted below ``/base`` (issue 12), as a user runs
it: a child ``pytest spec``, its JSON report read back.

Mounted inside a Starlette app (:mod:`tests.targets.mounted`) and named with
``--target-prefix=/base``, or served by uvicorn and named by a URL with that
path, the reference gets the verdicts it gets at the root, check by check. Any
other prefix reaches no surface, and nothing passes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from spec.targets.process import free_port, run_child, uvicorn_command
from tests.run_suite import ROOT, SuiteRun, run_spec

MOUNTED = "tests.targets.mounted:app"

pytestmark = pytest.mark.timeout(900)  # a hang guard for two whole child runs, on a busy machine


def outcomes(run: SuiteRun) -> dict[str, str]:
    """``{check's node id: outcome}`` of every check in the run's report."""
    return {
        check["nodeid"]: check["outcome"]
        for rule in run.report["rules"]
        for check in rule["checks"]
    }


def run_in(tmp_path: Path, name: str, *options: str) -> SuiteRun:
    where = tmp_path / name
    where.mkdir()
    return run_spec(where, *options)


@contextmanager
def uvicorn_serving(target: str) -> Iterator[str]:
    """``uvicorn TARGET`` in a child process on a free loopback port; its base URL."""
    port = free_port()
    with run_child(uvicorn_command(target, port)) as child:
        anyio.run(child.wait_for_line, "Uvicorn running")
        yield f"http://127.0.0.1:{port}"


def test_a_mounted_reference_gets_the_reference_verdicts(tmp_path: Path) -> None:
    """``--target=tests.targets.mounted:app --target-prefix=/base``: every check, ASGI and
    socket, nginx and the shutdown checks included, ends as it does at the root."""
    reference = run_in(tmp_path, "root")
    mounted = run_in(tmp_path, "base", f"--target={MOUNTED}", "--target-prefix=/base")
    assert reference.returncode == 0, reference.output[-3000:]
    assert mounted.report["target"] == f"{MOUNTED} (prefix /base)"
    assert mounted.results() == reference.results()
    assert outcomes(mounted) == outcomes(reference)
    assert mounted.returncode == 0


UNSERVED = ("HTTP2-", "INSTANCES-")
"""Rules not applicable to an app in the suite's process over HTTP/1.1, whatever it serves."""


def test_a_wrong_prefix_passes_nothing(tmp_path: Path) -> None:
    """Below ``/nope`` the mounted app serves nothing: every rule fails or is not observable
    (but those of :data:`UNSERVED`, not applicable to any such run)."""
    run = run_spec(tmp_path, f"--target={MOUNTED}", "--target-prefix=/nope")
    assert run.report["target"] == f"{MOUNTED} (prefix /nope)"
    results = {rule: r for rule, r in run.results().items() if not rule.startswith(UNSERVED)}
    assert set(results.values()) <= {"fail", "not observable"}, results
    checks = {
        check["nodeid"]: check["outcome"]
        for rule in run.report["rules"]
        if not rule["id"].startswith(UNSERVED)
        for check in rule["checks"]
    }
    assert set(checks.values()) <= {"fail", "not observable"}
    assert run.returncode == 1


def test_a_url_with_a_path_gets_the_verdicts_of_the_reference_by_url(tmp_path: Path) -> None:
    """``--target=http://127.0.0.1:PORT/base`` (the mounted app under uvicorn) ends every
    check as the reference does by its URL at the root."""
    with uvicorn_serving("impl.app:app") as url:
        reference = run_in(tmp_path, "root", f"--target={url}")
    with uvicorn_serving(MOUNTED) as url:
        mounted = run_in(tmp_path, "base", f"--target={url}/base")
    assert reference.returncode == 0, reference.output[-3000:]
    assert mounted.report["target"] == f"{url}/base"
    assert "pass" in mounted.results().values()
    assert mounted.results() == reference.results()
    assert outcomes(mounted) == outcomes(reference)


WIRE_RULES = "--rules=SSE-ENC-01,SSE-ENC-07,SURFACE-*,HDR-XFER-*,CHUNK-*"


def test_a_command_target_takes_the_prefix(tmp_path: Path) -> None:
    """``--target-command=... --target-prefix=/base``: the wire rules end as for the
    reference's command at the root."""
    command = "{python} -m uvicorn %s --host 127.0.0.1 --port {port}"
    reference = run_in(tmp_path, "root", WIRE_RULES, f"--target-command={command % 'impl.app:app'}")
    mounted = run_in(
        tmp_path,
        "base",
        WIRE_RULES,
        f"--target-command={command % MOUNTED}",
        "--target-prefix=/base",
    )
    assert reference.returncode == 0, reference.output[-3000:]
    assert mounted.report["target"] == f"{command % MOUNTED} (prefix /base)"
    assert "pass" in mounted.results().values()
    assert mounted.results() == reference.results()
    assert outcomes(mounted) == outcomes(reference)


def test_a_url_path_and_another_prefix_are_a_usage_error() -> None:
    completed = subprocess.run(
        [
            sys.executable, "-m", "pytest", "spec", "-q", "-p", "no:cacheprovider",
            "--rules=SURFACE-CAP-01", "--target=http://127.0.0.1:9/base", "--target-prefix=/other",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert completed.returncode == 4, output
    assert "puts the surface below /base, --target-prefix=/other elsewhere" in output
