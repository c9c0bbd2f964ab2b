"""Every check of the CHUNK chapter fails on an implementation that breaks its rule.

The broken apps of ``tests/broken/chunking.py`` are each checked by every
CHUNK check that is not a hypothesis property: message-level checks are called
with the app as target, socket checks with the app served by uvicorn on
loopback. The property checks run in child pytest runs, as a user runs them.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from impl.app import create_app
from spec.targets.server import serve
from spec.targets.target import Target
from tests.broken import chunking
from tests.checks import Surroundings, checks_of, failing_variants, is_property
from tests.run_suite import run_spec

CHECKS = [c for c in checks_of("CHUNK-") if not is_property(c[2])]
PROPERTIES = [c for c in checks_of("CHUNK-") if is_property(c[2])]


async def failing_checks(app: Any) -> dict[str, str]:
    """``{check name: rule ID}`` of the CHUNK checks (not properties) that fail against *app*."""
    with Surroundings(app, "under test") as where:
        return {
            name: rule_id for rule_id, name, check in CHECKS if await failing_variants(check, where)
        }


async def test_the_reference_app_passes_every_chunk_check() -> None:
    assert await failing_checks(create_app()) == {}


async def test_the_correct_broken_harness_passes() -> None:
    """The broken apps' frame, with the correct delivery, passes: each mutant differs in one way."""
    assert await failing_checks(chunking.correct) == {}


@pytest.fixture
def quick_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken app never delivers the held-back chunk: fail it sooner than a real run would."""
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "0.5")


CAUGHT_BY = {
    "check_each_chunk_is_its_own_message": "first_then_pairs",
    "check_stream_ends_with_one_final_message": "two_finals",
    "check_stream_ends_with_last_chunk": "no_final",
    "check_nothing_held_back_in_messages": "first_then_pairs",
    "check_nothing_held_back_on_socket": "first_then_pairs",
    "check_first_chunk_sent_while_producer_blocked": "buffered_producer",
    "check_first_chunk_arrives_while_producer_blocked": "buffered_producer",
    "check_declared_length_is_sent_in_messages": "length_in_characters",
    "check_declared_length_is_sent_on_socket": "length_in_characters",
    "check_log_lines_sent_as_produced": "buffered_producer",
    "check_log_lines_arrive_as_produced": "buffered_producer",
    "check_log_lines_end_with_line_feed": "log_published",
}
"""The broken delivery each (non-property) check is shown failing on."""

PROPERTIES_CAUGHT = {
    "check_any_chunking_gives_one_message_per_chunk",
    "check_any_bytes_reassemble_in_messages",
    "check_any_bytes_reassemble_on_socket",
    "check_text_cut_inside_characters_decodes",
}
"""The property checks the child runs below show failing."""


@pytest.mark.usefixtures("quick_guard")
@pytest.mark.parametrize("name", sorted(chunking.MUTANTS))
async def test_each_broken_delivery_is_caught(name: str) -> None:
    app, rules = chunking.MUTANTS[name]
    failed = await failing_checks(app)
    property_only = {r for r, _, _ in PROPERTIES} - {r for r, _, _ in CHECKS}
    expected = rules - property_only
    assert expected <= set(failed.values()), f"{name}: expected {sorted(expected)}, got {failed}"
    checks = {check for check, mutant in CAUGHT_BY.items() if mutant == name}
    assert checks <= set(failed), f"{name}: expected {sorted(checks)} to fail, got {failed}"


def test_every_chunk_check_is_shown_failing() -> None:
    """Each check is named above with the broken delivery (or child run) that makes it fail."""
    assert set(CAUGHT_BY) == {name for _, name, _ in CHECKS}
    assert {name for _, name, _ in PROPERTIES} == PROPERTIES_CAUGHT


def failing_check_names(report: dict[str, Any]) -> set[str]:
    """The names of the checks a child run's JSON report shows failing."""
    return {
        check["nodeid"].split("::")[-1].split("[")[0]
        for rule in report["rules"]
        for check in rule["checks"]
        if check["outcome"] == "fail"
    }


def test_text_relay_fails_the_reassembly_properties(tmp_path: Path) -> None:
    """Decoding each chunk alone breaks non-UTF-8 bytes and characters cut in two."""
    run = run_spec(
        tmp_path, "--rules=CHUNK-REASM-*", "--target=tests.broken.chunking:text_relay_app"
    )
    assert run.returncode == 1
    assert run.failing() == {"CHUNK-REASM-01", "CHUNK-REASM-02"}
    assert failing_check_names(run.report) == {
        "check_any_bytes_reassemble_in_messages",
        "check_any_bytes_reassemble_on_socket",
        "check_text_cut_inside_characters_decodes",
    }


def test_coalescing_fails_the_message_property(tmp_path: Path) -> None:
    """Joining chunks in pairs is found by the property over drawn chunkings."""
    run = run_spec(
        tmp_path, "--rules=CHUNK-MSG-01", "--target=tests.broken.chunking:first_then_pairs_app"
    )
    assert run.returncode == 1
    assert "check_any_chunking_gives_one_message_per_chunk" in failing_check_names(run.report)


def test_buffering_producer_fails_with_the_right_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue case (5): a producer that buffers its chunks before sending, run as a user runs it.

    The held-back chunks never come: the arrival guard is shortened so the run fails sooner.
    """
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "0.5")
    run = run_spec(
        tmp_path,
        "--rules=CHUNK-FLOW-*,CHUNK-LOG-*,CHUNK-WIRE-*,CHUNK-LENGTH-*",
        "--target=tests.broken.chunking:buffered_producer",
    )
    assert run.returncode == 1
    assert run.failing() == {"CHUNK-FLOW-01", "CHUNK-FLOW-02", "CHUNK-LOG-01"}
    assert "CHUNK-FLOW-01 (MUST)" in run.output


async def test_ignored_gates_make_the_arrival_checks_not_observable() -> None:
    """A target that does not hold its producer at the gate is not passed: it cannot be judged."""
    app = chunking.gate_ignored
    arrival = [c for c in CHECKS if c[0] in {"CHUNK-FLOW-01", "CHUNK-FLOW-02", "CHUNK-LOG-01"}]
    assert len(arrival) == 6
    with serve(app) as url:
        for _, name, check in arrival:
            fixtures = inspect.signature(check).parameters
            given = {"target": Target("gate ignored", app)} if "target" in fixtures else {}
            with pytest.raises(pytest.skip.Exception, match="not observable") as skipped:
                await check(**given, live_url=url) if not given else await check(**given)
            assert "SURFACE-GATE-01" in str(skipped.value), name
