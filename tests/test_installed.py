"""streamspec as a user installs it: the wheel, in a fresh venv outside the checkout.

The wheel is built from the checkout (``pip wheel``, so through hatch_build.py) and
installed with its dependencies into a new virtual environment; every command then runs
from a temporary project directory holding a small app of the user's, never from the
checkout, with no ``PYTHONPATH``. What is asserted is what a user sees: what the install
put into site-packages, the exit status and the report of ``streamspec check``, and a
project's own ``pytest --streamspec-target=...`` run.

These tests build and install (about half a minute), so they run in ``tox -e installed``
only (the marker ``installed``, set by tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import venv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.run_suite import ROOT

APP = textwrap.dedent(
    """\
    from starlette.responses import FileResponse, StreamingResponse

    from streamspec.kit import Download, Kit, Stream

    app = Kit(
        stream=Stream(lambda r: StreamingResponse(r.body, media_type=r.media_type)),
        download=Download(lambda r: FileResponse(r.root / r.name, filename=r.filename)),
    )
    """
)
"""A user's app: Starlette's FileResponse, which answers a Range it cannot satisfy whole
with 416 (FILE-RANGE-01 fails) and sends every file's metadata right (FILE-META-* pass)."""

FAILING_MUST = "FILE-RANGE-01"
PASSING = "FILE-META-*"


@dataclass(frozen=True)
class Installed:
    """The fresh venv with the wheel installed, and a user's project beside it."""

    venv: Path
    project: Path
    wheel: Path

    def bin(self, name: str) -> str:
        return str(self.venv / ("Scripts" if os.name == "nt" else "bin") / name)

    def run(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = os.pathsep.join([str(Path(self.bin("python")).parent), env["PATH"]])
        return subprocess.run(
            command, cwd=self.project, env=env, capture_output=True, text=True, check=False,
            timeout=600,
        )  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("streamspec-*.whl")
    environment = base / "venv"
    venv.create(environment, with_pip=True)
    project = base / "project"
    project.mkdir()
    (project / "userapp.py").write_text(APP, encoding="utf-8")
    done = Installed(environment, project, wheel)
    done.run([done.bin("python"), "-m", "pip", "install", "-q", str(wheel)]).check_returncode()
    return done


def site_packages(installed: Installed) -> Path:
    found = installed.run(
        [installed.bin("python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
    )
    return Path(found.stdout.strip())


def test_the_wheel_installs_one_import_name(installed: Installed) -> None:
    """What the install wrote into site-packages (its RECORD): streamspec, its dist-info."""
    (dist_info,) = site_packages(installed).glob("streamspec-*.dist-info")
    record = (dist_info / "RECORD").read_text(encoding="utf-8").splitlines()
    written = {line.split(",")[0].split("/")[0] for line in record}
    assert written - {".."} == {"streamspec", dist_info.name}
    # ".." entries are the console script, in the venv's bin/
    assert {line.split(",")[0] for line in record if line.startswith("..")} == {
        "../../../bin/streamspec"
    }


def test_the_installed_code_imports_nothing_by_its_checkout_names(installed: Installed) -> None:
    imports = installed.run(
        [
            installed.bin("python"),
            "-c",
            "import sys, streamspec.cli, streamspec.kit, streamspec.impl.app, "
            "streamspec.pytest_entry, streamspec.plugin; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'spec', 'impl'}))",
        ]
    )
    assert imports.returncode == 0, imports.stderr
    assert imports.stdout.strip() == "[]"


def test_check_exits_1_when_a_must_rule_fails(installed: Installed) -> None:
    report = installed.project / "failing.json"
    run = installed.run(
        [
            installed.bin("streamspec"), "check", "--app", "userapp:app",
            "--rules", FAILING_MUST, "--report-json", str(report),
        ]
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert FAILING_MUST in run.stdout
    results = {rule["id"]: rule["result"] for rule in json.loads(report.read_text())["rules"]}
    assert results[FAILING_MUST] == "fail"


def test_check_exits_0_when_no_rule_fails(installed: Installed) -> None:
    report = installed.project / "passing.json"
    run = installed.run(
        [
            installed.bin("streamspec"), "check", "--app", "userapp:app",
            "--rules", PASSING, "--report-json", str(report),
        ]
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    rules = json.loads(report.read_text())["rules"]
    results = [rule["result"] for rule in rules if rule["result"] != "not run"]
    assert results
    assert set(results) == {"pass"}


def test_python_dash_m_streamspec_runs_the_command(installed: Installed) -> None:
    run = installed.run([installed.bin("python"), "-m", "streamspec", "--help"])
    assert run.returncode == 0, run.stderr
    assert "check" in run.stdout


def test_a_projects_own_pytest_runs_the_checks(installed: Installed) -> None:
    """``pytest --streamspec-target`` in a project with no configuration for streamspec."""
    run = installed.run(
        [installed.bin("pytest"), "--streamspec-target=userapp:app", "--rules", FAILING_MUST]
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "check_single_ranges" in run.stdout
    assert " failed" in run.stdout.splitlines()[-1]


def test_a_projects_own_pytest_is_untouched_without_the_option(installed: Installed) -> None:
    """The pytest11 plugin is loaded in every run of the venv; without --streamspec-target
    it collects nothing of the spec and changes no outcome."""
    (installed.project / "test_own.py").write_text("def test_own():\n    assert True\n")
    try:
        run = installed.run([installed.bin("pytest"), "-q", "test_own.py"])
    finally:
        (installed.project / "test_own.py").unlink()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout.splitlines()[-1]
