"""The suite, run as a user runs it, fails broken implementations with the right rule IDs.

Each case is a child ``pytest spec --target=...`` run; the assertions read its
JSON report and its printed summary, as a person would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.run_suite import ROOT, run_spec

SSE_RULES = "--rules=SSE-ENC-*,SURFACE-SSE-*"


def test_reference_app_passes_every_rule(tmp_path: Path) -> None:
    run = run_spec(tmp_path)
    results = run.results()
    assert run.returncode == 0, run.output
    assert set(results.values()) == {"pass"}, results
    assert "streamspec rules: impl.app:app" in run.output


def test_tutorial_as_published_fails_event_framing(tmp_path: Path) -> None:
    """``"data: {...}nn"``: no event is ever terminated, so none is dispatched."""
    run = run_spec(tmp_path, SSE_RULES, "--target=tests.broken.tutorial_published:app")
    assert run.returncode == 1
    assert {"SSE-ENC-01", "SSE-ENC-12"} <= run.failing()
    assert "SSE-ENC-01 (MUST)" in run.output


def test_handmade_framing_fails_multiline_data(tmp_path: Path) -> None:
    """``f"data: {x}\\n\\n"`` breaks when the data holds a line break; hypothesis finds one."""
    run = run_spec(tmp_path, SSE_RULES, "--target=tests.broken.handmade_framing:app")
    assert run.returncode == 1
    failing = run.failing()
    assert {"SSE-ENC-02", "SSE-ENC-12"} <= failing
    assert "SSE-ENC-01" not in failing, "one-line events are framed correctly"
    assert "Failing test case" in run.output, "the minimal example hypothesis found is shown"


def test_stripping_encoder_fails_refusal_rules(tmp_path: Path) -> None:
    """An encoder that strips CR/LF from an id, instead of refusing it, is caught by SSE-ENC-07."""
    run = run_spec(tmp_path, SSE_RULES, "--target=tests.broken.stripping_encoder:app")
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
