"""The command line (``streamspec``, ``python -m spec``) and the pytest11 entry point, run as a
user runs them: child processes from a directory of their own, outside the checkout.

Each run's app is a module written into that directory (a kit around Starlette's
``StreamingResponse``), importable only because the directory is the run's cwd. The
rules chosen are two of the text stream's headers, quick to judge: ``HDR-TEXT-01``
(MUST, the media type) and ``HDR-TEXT-02`` (SHOULD, ``nosniff``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spec.targets.target import TargetError, load_target
from tests.run_suite import ROOT, validate

RULES = "--rules=HDR-TEXT-01,HDR-TEXT-02"

APP = """\
from starlette.responses import StreamingResponse

from spec.kit import Kit, Stream


def stream(r):
    headers = {{**r.headers, "X-Content-Type-Options": "nosniff"}}
    headers = {{k: v for k, v in headers.items() if k.lower() not in {dropped!r}}}
    return StreamingResponse(r.body, media_type={media_type}, headers=headers)


app = Kit(stream=Stream(stream))
"""

GOOD = APP.format(dropped=set(), media_type="r.media_type")
WRONG_TYPE = APP.format(dropped=set(), media_type="'application/octet-stream'")
"""Fails HDR-TEXT-01 (MUST): a text stream served as bytes."""
SNIFFED = APP.format(dropped={"x-content-type-options"}, media_type="r.media_type")
"""Fails HDR-TEXT-02 (SHOULD) only: no ``X-Content-Type-Options: nosniff``."""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in *cwd*, with none of the checkout's directories on the path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTEST_ADDOPTS")
    }
    env["HYPOTHESIS_PROFILE"] = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def project(tmp_path: Path, source: str) -> Path:
    """A directory holding ``userapp.py`` (*source*), away from the checkout."""
    home = tmp_path / "project"
    home.mkdir()
    (home / "userapp.py").write_text(source)
    assert ROOT not in home.parents
    return home


def results(path: Path) -> dict[str, str]:
    report = json.loads(path.read_text())
    validate(report)
    return {rule["id"]: rule["result"] for rule in report["rules"] if rule["result"] != "not run"}


def test_check_passes_an_app_importable_from_the_current_directory(tmp_path: Path) -> None:
    home = project(tmp_path, GOOD)
    done = run(home, "-m", "spec", "check", "--app", "userapp:app", RULES, "--report-json=r.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert results(home / "r.json") == {"HDR-TEXT-01": "pass", "HDR-TEXT-02": "pass"}
    assert "streamspec rules: userapp:app" in done.stdout


def test_check_fails_when_a_must_rule_fails(tmp_path: Path) -> None:
    home = project(tmp_path, WRONG_TYPE)
    done = run(home, "-m", "spec", "check", "--app", "userapp:app", RULES, "--level", "must")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "HDR-TEXT-01" in done.stdout


def test_level_must_ignores_a_failing_should_rule(tmp_path: Path) -> None:
    home = project(tmp_path, SNIFFED)
    relaxed = run(
        home, "-m", "spec", "check", "--app", "userapp:app", RULES, "--level=must",
        "--report-json=must.json", "--junit-xml=must.xml",
    )  # fmt: skip
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    assert results(home / "must.json") == {"HDR-TEXT-01": "pass", "HDR-TEXT-02": "fail"}
    assert (home / "must.xml").read_text().startswith("<?xml")
    strict = run(home, "-m", "spec", "check", "--app", "userapp:app", RULES, "--level=should")
    assert strict.returncode == 1, strict.stdout + strict.stderr


def test_an_address_without_a_scheme_is_answered_with_its_url(tmp_path: Path) -> None:
    done = run(tmp_path, "-m", "spec", "check", "127.0.0.1:8000")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "http://127.0.0.1:8000" in done.stderr
    assert "cannot import" not in done.stdout + done.stderr


def test_the_plugin_answers_an_address_without_a_scheme_with_its_url() -> None:
    with pytest.raises(TargetError, match=r"--target=http://127\.0\.0\.1:8000"):
        load_target("127.0.0.1:8000")
    with pytest.raises(TargetError, match=r"http://localhost:8000/base"):
        load_target("localhost:8000/base")


def test_pytest_target_without_a_scheme_is_answered_with_its_url(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "spec", "-p", "no:cacheprovider", RULES,
         "--target=127.0.0.1:8000"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--target=http://127.0.0.1:8000" in done.stdout + done.stderr
    assert "cannot import 127" not in done.stdout + done.stderr


def test_an_app_that_cannot_be_imported_says_where_it_was_looked_for(tmp_path: Path) -> None:
    done = run(tmp_path, "-m", "spec", "check", "--app", "nosuchapp.main:app", RULES)
    assert done.returncode == 4, done.stdout + done.stderr
    shown = done.stdout + done.stderr
    assert str(tmp_path) in shown
    assert "project's directory" in shown


def test_pytest_streamspec_target_runs_the_checks_in_a_project(tmp_path: Path) -> None:
    """The entry point loads the plugin in a project that names it nowhere; the chapters are
    collected though the project's tests do not include them."""
    home = project(tmp_path, GOOD)
    (home / "pytest.ini").write_text("[pytest]\n")
    (home / "test_own.py").write_text("def test_own():\n    pass\n")
    done = run(
        home, "-m", "pytest", "-v", "-p", "no:cacheprovider", "--streamspec-target=userapp:app",
        RULES, "--report-json=r.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert results(home / "r.json") == {"HDR-TEXT-01": "pass", "HDR-TEXT-02": "pass"}
    assert "streamspec rules: userapp:app" in done.stdout
    assert "test_own.py::test_own PASSED" in done.stdout, "the project's own test ran too"


def test_without_streamspec_target_a_project_runs_only_its_own_tests(tmp_path: Path) -> None:
    home = project(tmp_path, GOOD)
    (home / "pytest.ini").write_text("[pytest]\n")
    (home / "test_own.py").write_text("def test_own():\n    pass\n")
    done = run(home, "-m", "pytest", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "streamspec rules" not in done.stdout
