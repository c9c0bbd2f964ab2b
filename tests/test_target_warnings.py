"""A warning raised while a check runs is reported, not a verdict, unless asked for (K6).

The repo's pytest configuration turns warnings into errors, which also reached
the target's code running in the suite's process: a library's documented
warning aborted its streams, and a ``ResourceWarning`` from an unclosed file
failed whichever check was running when the garbage collector found it.
"""

from __future__ import annotations

from pathlib import Path

from tests.run_suite import run_spec

TARGET = "--target=tests.allowed.warning_apps:warns"
RULES = "--rules=SSE-ENC-01,CHUNK-MSG-02"


def _ran(results: dict[str, str]) -> dict[str, str]:
    return {rule: result for rule, result in results.items() if result != "not run"}


def test_a_warning_does_not_change_the_verdict(tmp_path: Path) -> None:
    run = run_spec(tmp_path, RULES, TARGET)
    assert _ran(run.results()) == {"SSE-ENC-01": "pass", "CHUNK-MSG-02": "pass"}, run.output
    assert "ResourceWarning" in run.output, run.output
    assert run.returncode == 0, run.output


def test_target_warnings_error_fails_the_check(tmp_path: Path) -> None:
    run = run_spec(tmp_path, RULES, TARGET, "--target-warnings=error")
    assert set(_ran(run.results()).values()) == {"fail"}, run.output
    assert run.returncode != 0, run.output
