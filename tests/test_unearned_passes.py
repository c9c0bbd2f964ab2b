"""No pass without an observation: targets without the surface pass no rule about the target.

A check passes only once it has seen the target answer a conformance endpoint
as the surface says (``spec.witness``); otherwise its rule is *not observable*,
with the answers it saw. And a target's report holds the rules about the target:
the parsing and client chapters judge the suite's own decoder and client unless
``--decoder`` or ``--client-command`` names one under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spec.rules import REGISTRY, TARGET
from tests.run_suite import run_spec

TARGET_RULES = {rule.id for rule in REGISTRY.values() if rule.subject == TARGET}


@pytest.mark.parametrize(
    ("target", "earned"),
    [
        ("tests.broken.no_surface:nothing", set()),
        # The one endpoint it serves is the declaration, which is all SURFACE-CAP-01 judges.
        ("tests.broken.no_surface:declaration_only", {"SURFACE-CAP-01"}),
    ],
)
def test_target_without_surface_passes_nothing(
    tmp_path: Path, target: str, earned: set[str]
) -> None:
    run = run_spec(tmp_path, f"--target={target}")
    results = run.results()
    passed = {rule_id for rule_id, result in results.items() if result in ("pass", "partial")}
    assert passed == earned, run.output[-3000:]
    assert set(results) == TARGET_RULES, "the report holds the rules about the target only"
    assert run.returncode == 1
    # The checks that look for an absence say why they could not judge.
    for rule_id in ("SSE-ENC-07", "FILE-NAME-01", "CANCEL-LEAK-01"):
        assert results[rule_id] in ("not observable", "fail"), rule_id
    reasons = " ".join(run.checks("SSE-ENC-07", "not observable").values())
    assert "404" in reasons, reasons


def test_report_holds_decoder_and_client_rules_only_when_named(tmp_path: Path) -> None:
    """By default the report is the target's; naming the decoder and the client adds theirs."""
    rules = "--rules=SSE-PARSE-01,SSE-CLIENT-01,SSE-ENC-01"
    default = run_spec(tmp_path / "default", rules).results()
    assert "SSE-PARSE-01" not in default
    assert "SSE-CLIENT-01" not in default
    assert default["SSE-ENC-01"] == "pass"
    named = run_spec(
        tmp_path / "named",
        rules,
        "--decoder=spec.sse:Decoder",
        "--client-command={python} -m spec.clients.oracle {url}",
    ).results()
    assert named["SSE-PARSE-01"] == "pass"
    assert named["SSE-CLIENT-01"] == "pass"


def test_a_stream_not_served_decides_before_an_observation_not_offered(tmp_path: Path) -> None:
    """HDR-INPUT-01 needs the gates and custom headers (marked in that order): with neither
    declared, the rule is not applicable, as the capability table says."""
    target = "--target=tests.broken.no_surface:no_headers_no_gates"
    run = run_spec(tmp_path, "--rules=HDR-INPUT-01", target)
    assert run.results()["HDR-INPUT-01"] == "not applicable", run.output[-2000:]
