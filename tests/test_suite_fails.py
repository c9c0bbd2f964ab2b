"""The suite, run as a user runs it, fails broken implementations with the right rule IDs.

Each case is a child ``pytest spec --target=...`` run; the assertions read its
JSON report and its printed summary, as a person would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.run_suite import ROOT, SuiteRun, run_spec

FRAMING_RULES = "--rules=SSE-ENC-01,SSE-ENC-02,SSE-ENC-12"


def test_reference_app_run_reports_rule_by_rule(tmp_path: Path) -> None:
    """The plumbing of a user's run: exit status, the printed table, the JSON report.

    (That the reference passes every rule is shown by the spec run of the same tox
    environment; this run selects two chapters' worth to keep the suite fast.)
    """
    run = run_spec(tmp_path, "--rules=SURFACE-*")
    results = run.results()
    assert run.returncode == 0, run.output
    assert "streamspec rules: impl.app:app" in run.output
    assert results["SURFACE-SSE-01"] == "pass"
    assert results["SSE-ENC-01"] == "not run"
    assert "SSE-PARSE-01" not in results, "the suite's own decoder is not the target"


def test_tutorial_as_published_fails_event_framing(tmp_path: Path) -> None:
    """``"data: {...}nn"``: no event is ever terminated, so none is dispatched."""
    run = run_spec(tmp_path, FRAMING_RULES, "--target=tests.broken.tutorial_published:app")
    assert run.returncode == 1
    assert {"SSE-ENC-01", "SSE-ENC-12"} <= run.failing()
    assert "SSE-ENC-01 (MUST)" in run.output


def test_handmade_framing_fails_multiline_data(tmp_path: Path) -> None:
    """``f"data: {x}\\n\\n"`` breaks when the data holds a line break; hypothesis finds one."""
    run = run_spec(tmp_path, FRAMING_RULES, "--target=tests.broken.handmade_framing:app")
    assert run.returncode == 1
    failing = run.failing()
    assert {"SSE-ENC-02", "SSE-ENC-12"} <= failing
    assert "SSE-ENC-01" not in failing, "one-line events are framed correctly"
    assert "Failing test case" in run.output, "the minimal example hypothesis found is shown"


def test_stripping_encoder_fails_refusal_rules(tmp_path: Path) -> None:
    """An encoder that strips CR/LF from an id, instead of refusing it, is caught by SSE-ENC-07."""
    run = run_spec(
        tmp_path, "--rules=SSE-ENC-0[5-9]", "--target=tests.broken.stripping_encoder:app"
    )
    assert run.returncode == 1
    assert run.failing() == {"SSE-ENC-07"}


def test_broken_decoder_fails_parsing_rules(tmp_path: Path) -> None:
    """A decoder that splits lines with ``str.splitlines`` is caught by SSE-PARSE-03."""
    run = run_spec(tmp_path, "--rules=SSE-PARSE-*", "--decoder=tests.broken.decoders:Splitlines")
    assert run.returncode == 1
    assert "SSE-PARSE-03" in run.failing()


def test_unknown_target_is_a_clear_error() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "spec", "-q", "--target=no.such.module:app"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode != 0
    assert "cannot import no.such.module" in completed.stdout + completed.stderr


def failing_checks(run: SuiteRun, rule_id: str) -> list[str]:
    rule = next(r for r in run.report["rules"] if r["id"] == rule_id)
    return [c["nodeid"].split("::")[-1] for c in rule["checks"] if c["outcome"] == "fail"]


def test_plain_streaming_response_fails_cleanup(tmp_path: Path) -> None:
    """Starlette's StreamingResponse: a sync generator's ``finally`` never runs after the client
    leaves, and a generator that never awaits is never stopped."""
    run = run_spec(tmp_path, "--rules=CANCEL-CLEANUP-01", "--target=tests.broken.cancel_apps:plain")
    assert run.failing() == {"CANCEL-CLEANUP-01"}
    failed = failing_checks(run, "CANCEL-CLEANUP-01")
    assert any("sync" in check for check in failed), failed
    assert any("busy" in check for check in failed), failed


def test_polling_for_disconnects_fails_the_cost_rule(tmp_path: Path) -> None:
    """The source document's ``await request.is_disconnected()`` before every item."""
    run = run_spec(tmp_path, "--rules=CANCEL-POLL-01", "--target=tests.broken.cancel_apps:polling")
    assert run.failing() == {"CANCEL-POLL-01"}


def test_stream_without_ids_fails_resume_rules(tmp_path: Path) -> None:
    """Without ids a reconnecting client cannot say where it stopped: hypothesis shows the loss."""
    run = run_spec(tmp_path, "--rules=CANCEL-RESUME-*", "--target=tests.broken.cancel_apps:no_ids")
    assert {"CANCEL-RESUME-01", "CANCEL-RESUME-02"} <= run.failing()


def test_busy_keepalive_fails(tmp_path: Path) -> None:
    """A keep-alive loop with interval 0 floods the idle stream with comments."""
    run = run_spec(
        tmp_path, "--rules=CANCEL-KEEPALIVE-02", "--target=tests.broken.cancel_apps:busy_keepalive"
    )
    assert run.failing() == {"CANCEL-KEEPALIVE-02"}
