"""Every check of the CANCEL chapter fails on an app that breaks its rule, with the right rule.

The broken apps are in ``tests/broken/cancel_apps.py``. Checks are called
directly, at the message level (``stream_client`` is the ASGI client) and,
for the checks that need a socket, against the app served by uvicorn. The
hang guards are shortened: a broken app that never cleans up costs seconds,
not minutes. The property check and the socket transport of the other checks
run in ``tests/test_suite_fails.py``, through pytest.
"""

from __future__ import annotations

from typing import Any

import pytest

from impl.app import create_app
from spec.chapters import cancel
from spec.targets import harness
from spec.targets.client import AsgiClient
from spec.targets.server import serve
from spec.targets.target import Target, load_target
from tests.broken import cancel_apps
from tests.checks import checks_of, is_property
from tests.expand import call_with, parameter_sets

SHUTDOWN_RULES = ("CANCEL-SHUTDOWN-01", "CANCEL-SHUTDOWN-02")
CHECKS = [c for c in checks_of("CANCEL-") if not is_property(c[2]) and c[0] not in SHUTDOWN_RULES]
SHUTDOWN_CHECKS = checks_of("CANCEL-SHUTDOWN-")

EXPECTED = {
    "plain": {
        "CANCEL-CLEANUP-01",
        "CANCEL-PROMPT-01",
        "CANCEL-SLOW-01",
        "CANCEL-HEAD-01",
        "CANCEL-KEEPALIVE-01",
    },
    "unwatched": {"CANCEL-EARLY-01", "CANCEL-BLOCKED-01", "CANCEL-SENDING-01"},
    "polling": {"CANCEL-POLL-01"},
    "swallowing": {"CANCEL-ERROR-01"},
    "leaking": {"CANCEL-LEAK-01"},
    "no_ids": {"CANCEL-RESUME-01"},
    "no_gap": {"CANCEL-RESUME-03"},
    "busy_keepalive": {"CANCEL-KEEPALIVE-02"},
}


def shorten_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short guards and windows, for broken apps only: a broken app fails sooner with them,
    while the reference is judged with the suite's own (a correct target on a busy machine
    may need more than a second to time out a send)."""
    monkeypatch.setattr(cancel, "GUARD", 1.0)
    monkeypatch.setattr(cancel, "SHUTDOWN_GRACE", 3.0)
    monkeypatch.setattr(harness, "_HANG_GUARD_SECONDS", 1.0)
    monkeypatch.setenv("STREAMSPEC_PATIENCE", "1")


async def shutdown_failures(target: str) -> set[str]:
    """The shutdown checks that fail against the app named *target* (run in child processes)."""
    failed = set()
    for rule_id, _, check in SHUTDOWN_CHECKS:
        try:
            await check(target=load_target(target))
        except pytest.skip.Exception:
            raise
        except Exception:
            failed.add(rule_id)
    return failed


async def test_shutdown_checks_pass_on_the_reference_and_fail_where_they_should(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An app whose endless stream ignores shutdown hangs; a process-wide flag leaks."""
    assert await shutdown_failures("impl.app:app") == set()
    shorten_guards(monkeypatch)
    assert "CANCEL-SHUTDOWN-01" in await shutdown_failures("tests.broken.cancel_apps:plain")
    assert await shutdown_failures("tests.broken.global_shutdown:app") == {"CANCEL-SHUTDOWN-02"}


async def failures(app: Any) -> dict[str, str]:
    """``{check[params]: rule ID}`` of the CANCEL checks that fail against *app*."""
    failed: dict[str, str] = {}
    with serve(app) as url:
        fixtures = {"stream_client": AsgiClient(app), "target": Target("app", app), "live_url": url}
        for rule_id, name, check in CHECKS:
            for params in parameter_sets(check) or [{}]:
                label = f"{name}{sorted(params.items()) if params else ''}"
                try:
                    await call_with(check, fixtures, params)
                except pytest.skip.Exception:
                    pass
                except BaseException as error:
                    if isinstance(error, KeyboardInterrupt):
                        raise
                    failed[label] = rule_id
    return failed


async def test_reference_app_passes_every_cancel_check() -> None:
    assert await failures(create_app()) == {}


async def test_each_broken_app_fails_its_rules_and_every_check_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One pass over the broken apps: each fails its rules; together they fail every check."""
    shorten_guards(monkeypatch)
    caught: set[str] = set()
    missed: dict[str, list[str]] = {}
    for variant in cancel_apps.VARIANTS:
        failed = await failures(cancel_apps.cancel_app(variant))
        caught |= {label.split("[")[0] for label in failed}
        missing = EXPECTED[variant] - set(failed.values())
        if missing:
            missed[variant] = sorted(missing)
    assert missed == {}, f"rules the broken apps should fail and did not: {missed}"
    never = sorted({name for _, name, _ in CHECKS} - caught)
    assert never == [], f"CANCEL checks that no broken app fails: {never}"
