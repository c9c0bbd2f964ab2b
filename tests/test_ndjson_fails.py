"""Every check of the NDJSON chapter fails on a stream that breaks its rule, and passes on
the reference and on the allowed liberties (``application/jsonl``, CRLF, records in pieces).

The checks are called directly with both transports (:mod:`tests.checks`); the
hypothesis property (``NDJSON-REC-02``), which pytest runs, is judged by child runs of
the suite (``pytest spec --rules=NDJSON-*``), as are the allowed streams.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from impl.app import create_app
from spec.targets.asgi_types import ASGIApp
from tests.allowed import ndjson_apps as allowed_apps
from tests.broken import ndjson_apps
from tests.checks import Surroundings, checks_of, failing_variants, is_property
from tests.run_suite import assert_allowed_passes, run_spec

pytestmark = pytest.mark.anyio

CHECKS = {
    name: (rule_id, check)
    for rule_id, name, check in checks_of("NDJSON-")
    if not is_property(check)
}

MUST_FAIL: dict[str, set[str]] = {
    "raw_newline": {"check_records_are_framed"},
    "buffered": {"check_each_record_arrives_before_the_next"},
    "clean_end_after_error": {"check_failure_aborts_the_body"},
    "wrong_type": {"check_media_type"},
    "latin1": {"check_records_are_framed"},
    "no_final_lf": {"check_records_are_framed"},
}

ALLOWED = ("jsonl", "split_records")


@pytest.fixture
def short_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Held-back records are expected here: give up on each after one second, not five."""
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "1")


def test_every_check_is_expected_to_fail_somewhere() -> None:
    covered = set().union(*MUST_FAIL.values())
    assert sorted(set(CHECKS) - covered) == []
    assert sorted(covered - set(CHECKS)) == []


async def _failures(where: Surroundings) -> dict[str, list[str]]:
    failed = {}
    for name, (_, check) in CHECKS.items():
        if errors := await failing_variants(check, where):
            failed[name] = errors
    return failed


async def test_reference_passes_every_check(
    surroundings: Callable[[ASGIApp], Surroundings],
) -> None:
    assert await _failures(surroundings(create_app())) == {}


@pytest.mark.parametrize("name", ALLOWED)
async def test_allowed_streams_pass_every_check(
    name: str, surroundings: Callable[[ASGIApp], Surroundings]
) -> None:
    assert await _failures(surroundings(getattr(allowed_apps, name))) == {}


@pytest.mark.parametrize("name", ALLOWED)
def test_allowed_streams_pass_the_chapter_run(name: str, tmp_path: Path) -> None:
    """The whole chapter, the property included, run by pytest as a user runs it."""
    assert_allowed_passes(tmp_path, f"tests.allowed.ndjson_apps:{name}", "NDJSON-*")


def test_the_property_finds_a_raw_newline(tmp_path: Path) -> None:
    """``NDJSON-REC-02`` (hypothesis) fails pretty-printed records, as ``REC-01`` does."""
    run = run_spec(tmp_path, "--rules=NDJSON-*", "--target=tests.broken.ndjson_apps:raw_newline")
    assert run.returncode == 1, run.output
    assert {"NDJSON-REC-01", "NDJSON-REC-02"} <= run.failing(), run.output
    assert "NDJSON-TYPE-01" not in run.failing(), run.output


def test_a_target_declaring_nothing_gets_the_rules_not_applicable(tmp_path: Path) -> None:
    """A kit without an NDJSON factory: every NDJSON rule not applicable, none failing."""
    run = run_spec(tmp_path, "--rules=NDJSON-*", "--target=tests.broken.ndjson_apps:undeclared")
    results = {rule: result for rule, result in run.results().items() if rule.startswith("NDJSON")}
    assert results, run.output
    assert set(results.values()) == {"not applicable"}, run.output


@pytest.mark.usefixtures("short_guard")
@pytest.mark.parametrize("name", sorted(MUST_FAIL))
async def test_each_broken_stream_is_caught(
    name: str, surroundings: Callable[[ASGIApp], Surroundings]
) -> None:
    where = surroundings(getattr(ndjson_apps, name))
    passed = []
    for check_name in sorted(MUST_FAIL[name]):
        rule_id, check = CHECKS[check_name]
        if not await failing_variants(check, where):
            passed.append(f"{rule_id} {check_name}")
    assert passed == [], f"{name}: these checks passed on it"
