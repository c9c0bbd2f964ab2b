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


def test_check_serves_an_app_with_the_server_and_protocol_chosen(tmp_path: Path) -> None:
    home = project(tmp_path, GOOD)
    done = run(
        home, "-m", "spec", "check", "--app", "userapp:app", "--server", "granian",
        "--http", "2", RULES, "--report-json=r.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((home / "r.json").read_text())
    assert report["server"]["name"] == "granian"
    assert report["server"]["http"] == "2"
    assert results(home / "r.json") == {"HDR-TEXT-01": "pass", "HDR-TEXT-02": "pass"}


def test_a_server_is_chosen_only_for_an_app(tmp_path: Path) -> None:
    done = run(tmp_path, "-m", "spec", "check", "http://127.0.0.1:9", "--server", "hypercorn")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--server chooses how an ASGI app is served: give it with --app" in done.stderr


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


def _check_from_the_checkout(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m spec check ARGS`` from the checkout, where ``tests.broken`` imports."""
    return run(ROOT, "-m", "spec", "check", *args)


BROKEN_RULES = "--rules=HDR-TEXT-*,SURFACE-TEXT-*"
"""Five rules; ``text_without_charset`` fails HDR-TEXT-01 alone, on both transports."""


def test_a_failing_run_reports_each_failing_rule_once_before_the_table(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    done = _check_from_the_checkout(
        "--app", "tests.broken.hdr_apps:text_without_charset", BROKEN_RULES,
        f"--report-json={report}",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    lines = out.splitlines()
    failing = [line for line in lines if line.startswith("HDR-TEXT-01 MUST failed: ")]
    assert len(failing) == 1, out
    table = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rule", "level"])
    assert lines.index(failing[0]) < table, "failures first, then the table"
    rows = {line.split()[0] for line in lines[table + 1 :] if line[:1].isupper()}
    ran = {rule for rule, result in results(report).items() if result != "not run"}
    assert ran <= rows, "every rule that ran has its row"
    assert not [row for row in rows if row.startswith(("SSE-", "FILE-", "CANCEL-"))], (
        "only the rules --rules selected"
    )
    assert "  check_text_content_type [asgi, socket]" in lines, "one failure, both transports"
    (curl,) = [line.strip() for line in lines if line.strip().startswith("repeat: curl ")]
    assert "/conformance/text?" in curl
    assert "Traceback" not in out
    assert "def check_" not in out, "no source lines of a traceback"
    assert "FAILURES" not in out
    assert "short test summary" not in out
    # A structural bound: the run's lines are a few for each rule that ran, whatever the
    # target did (before this report, each failure's traceback was printed twice).
    assert len(lines) < 20 + 15 * len(ran), out
    assert report.read_text().count('"curl": "curl ') == 1, "the socket check's, in the JSON"


def test_tracebacks_are_one_option_away() -> None:
    done = _check_from_the_checkout(
        "--app", "tests.broken.hdr_apps:text_without_charset", "--rules=HDR-TEXT-01",
        "--tracebacks",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILURES" in done.stdout
    assert "def check_text_content_type" in done.stdout
    _, _, report = done.stdout.partition("streamspec rules:")
    assert "HDR-TEXT-01 MUST failed: " in report


def test_a_target_without_the_surface_is_pointed_to_the_surface_chapter(tmp_path: Path) -> None:
    home = project(tmp_path, "from starlette.applications import Starlette\napp = Starlette()\n")
    done = run(home, "-m", "spec", "check", "--app", "userapp:app", "--rules=HDR-TEXT-01")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    report = done.stdout.split("streamspec rules: userapp:app", 1)[1]
    notice = report.index("GET /conformance/capabilities answered 404")
    assert "README.md#surface" in report[notice:]
    table = report.index("\nrule ")
    assert notice < table


def test_a_setup_error_comes_first_and_a_command_is_titled_as_it_ran(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    done = run(
        tmp_path, "-m", "spec", "check", "--command", "sh -c 'echo boom >&2; exit 3' {port}",
        "--rules=HDR-TEXT-01", f"--report-json={report}",
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    after = done.stdout.split("streamspec rules: ", 1)[1].splitlines()
    assert after[1] == "the checks could not run:"
    assert "exited with status 3 before listening" in " ".join(" ".join(after[2:5]).split())
    assert " not run " not in done.stdout, "no table of rules that did not run"
    assert "statement" not in done.stdout
    made = json.loads(report.read_text())
    validate(made)
    assert "exited with status 3" in made["setup_error"]


def test_a_command_target_is_titled_with_its_port(tmp_path: Path) -> None:
    home = project(tmp_path, GOOD)
    report = home / "r.json"
    done = run(
        home, "-m", "spec", "check", "--command", "{python} -m uvicorn userapp:app --port {port}",
        "--rules=HDR-TEXT-01", f"--report-json={report}",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    made = json.loads(report.read_text())
    validate(made)
    assert made["target"] == "{python} -m uvicorn userapp:app --port {port}"
    assert "{port}" not in made["command"]
    assert made["command"] in done.stdout.split("streamspec rules: ", 1)[1].splitlines()[0]


OWN_TESTS = """\
import sys

import pytest
from hypothesis import settings


def test_nothing_of_streamspec_takes_part(request):
    assert "spec.plugin" not in sys.modules and "streamspec.plugin" not in sys.modules
    assert settings.get_current_profile_name() == "default", "no profile of ours loaded"
    with pytest.raises(pytest.FixtureLookupError):
        request.getfixturevalue("capabilities")


@pytest.mark.requires("network")
def test_a_marker_named_as_ours_is_the_projects(request):
    assert request.config.getoption("--target") == "staging"
"""


def test_without_streamspec_target_the_plugin_is_inert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project with options and a marker named as the plugin's own (``--target``,
    ``--server``, ``requires``) runs as if streamspec were not installed."""
    # Hypothesis loads a "ci" profile of its own where CI is set, as under .ci/run (tox
    # passes it on, and keeps it in a variable of its own, which Hypothesis reads too).
    for name in ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI"):
        monkeypatch.delenv(name, raising=False)
    home = project(tmp_path, GOOD)
    (home / "pytest.ini").write_text("[pytest]\nmarkers =\n    requires(what): needs\n")
    (home / "conftest.py").write_text(
        "def pytest_addoption(parser):\n"
        "    parser.addoption('--target')\n"
        "    parser.addoption('--server')\n"
    )
    (home / "test_own.py").write_text(OWN_TESTS)
    done = run(home, "-m", "pytest", "-p", "no:cacheprovider", "--target=staging", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "streamspec" in run(home, "-m", "pytest", "--help").stdout, "the entry point is there"
