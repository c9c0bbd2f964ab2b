"""Every check of the chapter "AI token streams" fails on a stream that breaks its rule, and
passes on the reference and on the allowed liberties (``tests/allowed/chat_apps.py``).

The checks are called directly, with each of their parameters (the two styles) and both
transports (in-process ASGI, a real socket); a child run of the suite shows the capability
deciding: a kit without a chat factory gets every CHAT rule *not applicable*.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from impl.app import create_app
from spec.targets.asgi_types import ASGIApp
from tests.allowed import chat_apps as allowed_apps
from tests.broken import chat_apps
from tests.checks import Surroundings, checks_of
from tests.expand import parameter_sets
from tests.run_suite import assert_allowed_passes, run_spec

pytestmark = pytest.mark.anyio

CHECKS = {name: (rule_id, check) for rule_id, name, check in checks_of("CHAT-")}

MUST_FAIL: dict[str, set[str]] = {
    "done_twice": {
        "check_openai_stream_ends_with_one_done",
        "check_typed_stream_ends_with_one_terminal_event",
    },
    "data_after_done": {
        "check_openai_stream_ends_with_one_done",
        "check_typed_stream_ends_with_one_terminal_event",
    },
    "no_end_marker": {
        "check_openai_stream_ends_with_one_done",
        "check_typed_stream_ends_with_one_terminal_event",
    },
    "raw_text": {"check_tokens_arrive_unchanged"},
    "buffered": {"check_each_token_arrives_before_the_next"},
    "json_reply": {"check_a_post_is_answered_with_an_event_stream"},
    "error_as_done": {"check_failure_is_an_event_then_the_end"},
    "error_silent_end": {"check_failure_is_an_event_then_the_end"},
    "done_after_error": {"check_failure_is_an_event_then_the_end"},
    "no_keepalive": {"check_comments_flow_while_the_model_thinks"},
    "runs_on": {
        "check_generation_stops_when_the_client_leaves",
        "check_thinking_stops_when_the_client_leaves",
    },
}

ALLOWED = ("verbose", "responses")


@pytest.fixture
def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a broken stream never does is waited for one second, not five."""
    monkeypatch.setenv("STREAMSPEC_PATIENCE", "1")
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "1")


async def failing(check: Callable[..., Any], where: Surroundings) -> list[str]:
    """Each parameter set and transport on which *check* raised, with the error."""
    failed = []
    for params in parameter_sets(check) or [{}]:
        for client in where.values("stream_client"):
            try:
                await check(stream_client=client, **params)
            except pytest.skip.Exception:
                pass  # not observable or not applicable: never a pass, and no failure either
            except Exception as error:
                failed.append(f"{client.transport} {params}: {type(error).__name__}: {error}")
    return failed


async def _failures(where: Surroundings) -> dict[str, list[str]]:
    return {
        name: errors
        for name, (_, check) in CHECKS.items()
        if (errors := await failing(check, where))
    }


def test_every_check_is_expected_to_fail_somewhere() -> None:
    covered = set().union(*MUST_FAIL.values())
    assert sorted(set(CHECKS) - covered) == []
    assert sorted(covered - set(CHECKS)) == []


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
    """The whole chapter run by pytest as a user runs it: every CHAT rule passes."""
    assert_allowed_passes(tmp_path, f"tests.allowed.chat_apps:{name}", "CHAT-*")


def test_a_target_declaring_nothing_gets_the_rules_not_applicable(tmp_path: Path) -> None:
    """A kit without a chat factory: every CHAT rule not applicable, none failing."""
    run = run_spec(tmp_path, "--rules=CHAT-*", "--target=tests.broken.chat_apps:undeclared")
    results = {rule: result for rule, result in run.results().items() if rule.startswith("CHAT")}
    assert results, run.output
    assert set(results.values()) == {"not applicable"}, run.output


@pytest.mark.parametrize("name", sorted(MUST_FAIL))
def test_the_suite_run_fails_each_broken_stream_by_its_rules(name: str, tmp_path: Path) -> None:
    """``pytest spec --rules=CHAT-*`` as a user runs it: the rules of the checks that must
    catch the stream fail, with their IDs in the report."""
    run = run_spec(
        tmp_path,
        "--rules=CHAT-*",
        f"--target=tests.broken.chat_apps:{name}",
        env={"STREAMSPEC_PATIENCE": "1", "STREAMSPEC_ARRIVAL_GUARD": "1"},
    )
    expected = {CHECKS[check][0] for check in MUST_FAIL[name]}
    assert run.returncode == 1, run.output
    assert expected <= run.failing(), run.output


@pytest.mark.usefixtures("short_windows")
@pytest.mark.parametrize("name", sorted(MUST_FAIL))
async def test_each_broken_stream_is_caught(
    name: str, surroundings: Callable[[ASGIApp], Surroundings]
) -> None:
    where = surroundings(getattr(chat_apps, name))
    passed = []
    for check_name in sorted(MUST_FAIL[name]):
        rule_id, check = CHECKS[check_name]
        if not await failing(check, where):
            passed.append(f"{rule_id} {check_name}")
    assert passed == [], f"{name}: these checks passed on it"


SURFACE_CHECKS = {name: check for _, name, check in checks_of("SURFACE-CHAT-")}


@pytest.mark.parametrize("name", ["reference", *ALLOWED])
async def test_the_surface_check_passes_on_the_kit(
    name: str, surroundings: Callable[[ASGIApp], Surroundings]
) -> None:
    """``SURFACE-CHAT-01``: the kit's refusals (the reference's, the allowed apps') pass."""
    app = create_app() if name == "reference" else getattr(allowed_apps, name)
    where = surroundings(app)
    assert {n: e for n, check in SURFACE_CHECKS.items() if (e := await failing(check, where))} == {}


async def test_the_surface_check_fails_on_a_naive_endpoint(
    surroundings: Callable[[ASGIApp], Surroundings],
) -> None:
    """An endpoint that ``json.loads`` whatever came answers a malformed body with a 500."""
    where = surroundings(chat_apps.naive_surface)
    (check,) = SURFACE_CHECKS.values()
    assert await failing(check, where)
