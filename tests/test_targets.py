"""Targets other than an importable ASGI app: a running server by URL, a server started by command.

Each is run as a user runs it (a child ``pytest spec``, its JSON report read
back), against the reference app, where every check over the wire passes, and
against a broken app, where the right rule fails. The ``asgi`` transport of such
a target is never passed: each of its checks is *not observable*, with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from impl.app import create_app
from spec.targets.command import free_port
from spec.targets.server import serve
from spec.targets.target import COMMAND, URL, TargetError, load_target
from tests.broken.stripping_encoder import app as stripping_app
from tests.run_suite import ROOT, SuiteRun, run_spec

RULES = "--rules=SSE-ENC-01,SSE-ENC-02,SSE-ENC-07,SURFACE-SSE-*,SURFACE-TEXT-*,SURFACE-CAP-*"

BROKEN_FAILS = {"SSE-ENC-07", "SURFACE-CAP-01", "SURFACE-TEXT-01"}
"""The stripping encoder's app strips CR/LF from ids (SSE-ENC-07) and declares no
capabilities (SURFACE-CAP-01), so it is held to every stream rule, text included,
and serves no text (SURFACE-TEXT-01; its 404s to malformed chunks are no refusal, so
SURFACE-TEXT-02 is not observable)."""


def outcomes_by_transport(run: SuiteRun) -> dict[str, dict[str, str]]:
    """``{transport: {nodeid: outcome}}`` of every check in the run's report."""
    found: dict[str, dict[str, str]] = {"asgi": {}, "socket": {}}
    for rule in run.report["rules"]:
        for check in rule["checks"]:
            transport = "asgi" if check["nodeid"].endswith("[asgi]") else "socket"
            found[transport][check["nodeid"]] = check["outcome"]
    return found


def assert_wire_only(run: SuiteRun, kind: str) -> None:
    """Every asgi check is not observable, for the stated reason; socket checks ran."""
    outcomes = outcomes_by_transport(run)
    assert outcomes["asgi"], "the asgi transport was collected"
    assert set(outcomes["asgi"].values()) == {"not observable"}, outcomes["asgi"]
    assert f"not observable: ASGI messages: the target is a {kind}" in run.output
    assert outcomes["socket"], "the socket transport ran"


@pytest.fixture(scope="module")
def reference_url() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def stripping_url() -> Iterator[str]:
    with serve(stripping_app) as url:
        yield url


def block_impl(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``impl`` unimportable in child processes (a ``sitecustomize`` on PYTHONPATH)."""
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'impl' or name.startswith('impl.'):\n"
        "            raise ImportError('impl must not be imported')\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(folder))


def test_url_target_passes_the_reference_app_without_importing_impl(
    tmp_path: Path, reference_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every wire check passes, with ``impl`` unimportable in the suite's process."""
    block_impl(tmp_path / "blocker", monkeypatch)
    run = run_spec(tmp_path, RULES, f"--target={reference_url}")
    assert run.returncode == 0, run.output
    assert run.report["kind"] == URL
    assert_wire_only(run, URL)
    assert set(outcomes_by_transport(run)["socket"].values()) == {"pass"}
    assert set(run.results().values()) - {"not run"} == {"partial"}
    assert f"streamspec rules: {reference_url}" in run.output

    blocked = run_spec(tmp_path, RULES)  # the default target is impl: the blocker bites
    assert blocked.returncode == 4
    assert "cannot import impl.app: impl must not be imported" in blocked.output


def test_url_target_fails_a_broken_app(tmp_path: Path, stripping_url: str) -> None:
    run = run_spec(tmp_path, RULES, f"--target={stripping_url}")
    assert run.returncode == 1
    assert_wire_only(run, URL)
    assert run.failing() == BROKEN_FAILS


def test_command_target_passes_the_reference_app(tmp_path: Path) -> None:
    command = "{python} -m uvicorn impl.app:app --port {port}"
    run = run_spec(tmp_path, RULES, f"--target-command={command}")
    assert run.returncode == 0, run.output
    assert run.report["kind"] == COMMAND
    assert_wire_only(run, COMMAND)
    assert set(outcomes_by_transport(run)["socket"].values()) == {"pass"}


def test_command_target_fails_a_broken_app_and_shows_its_stderr(tmp_path: Path) -> None:
    command = "{python} -m uvicorn tests.broken.stripping_encoder:app --port {port}"
    run = run_spec(tmp_path, RULES, f"--target-command={command}")
    assert run.returncode == 1
    assert_wire_only(run, COMMAND)
    assert run.failing() == BROKEN_FAILS
    assert "the target command's stderr" in run.output
    assert "Uvicorn running on http://127.0.0.1:" in run.output


def test_command_that_exits_is_a_clear_error(tmp_path: Path) -> None:
    command = "{python} -c 'import sys; sys.exit(\"no server here\")' {port}"
    run = run_spec(tmp_path, RULES, f"--target-command={command}")
    assert run.returncode == 4
    assert "exited with status 1 before listening" in run.output
    assert "no server here" in run.output


def test_a_url_where_nothing_listens_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = run_spec(tmp_path, RULES, f"--target={url}")
    assert run.returncode == 4
    assert f"--target={url}: nothing accepts connections there" in run.output


def test_target_names_that_cannot_work_are_refused() -> None:
    with pytest.raises(TargetError, match="must contain"):
        load_target(command="node server.js")
    with pytest.raises(TargetError, match="not both"):
        load_target("impl.app:app", command="x --port {port}")
    with pytest.raises(TargetError, match="base URL"):
        load_target("http://127.0.0.1:8000/some/path?query=1")
    # A path is the target's prefix now (issue 12, tests/test_prefix.py), not an error.
    assert load_target("http://127.0.0.1:8000/some/path").prefix == "/some/path"


def test_asking_a_server_on_the_wire_for_its_asgi_app_is_not_observable() -> None:
    """``target.app`` (what message-level checks use) ends the check, never returns."""
    for target in (load_target("http://127.0.0.1:8000"), load_target(command="x {port}")):
        with pytest.raises(pytest.skip.Exception, match="not observable: ASGI messages"):
            _ = target.app
    assert load_target("impl.app:app").app is not None


def test_spec_never_imports_the_reference_app() -> None:
    """Running against another target never needs ``impl``: nothing in spec/ imports it."""
    offenders = []
    for path in sorted((ROOT / "spec").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name == "impl" or name.startswith("impl.")
            ]
    assert offenders == []
