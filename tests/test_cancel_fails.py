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
from impl.settings import Settings
from spec.chapters import cancel
from spec.probe import fetch_capabilities
from spec.rules import RuleViolation
from spec.targets import harness
from spec.targets.client import AsgiClient, SocketClient
from spec.targets.server import SERVERS, serve
from spec.targets.target import Target, load_target
from tests.allowed import cancel_apps as allowed
from tests.broken import cancel_apps
from tests.checks import checks_of, is_property
from tests.expand import call_with, parameter_sets

SHUTDOWN_RULES = ("CANCEL-SHUTDOWN-01", "CANCEL-SHUTDOWN-02")
"""The shutdown rules judged here; CANCEL-SHUTDOWN-03's stalled readers are judged in
``tests/test_stalled_fails.py``."""
CHECKS = [
    c
    for c in checks_of("CANCEL-")
    if not is_property(c[2]) and not c[0].startswith("CANCEL-SHUTDOWN-")
]
SHUTDOWN_CHECKS = [c for c in checks_of("CANCEL-SHUTDOWN-") if c[0] in SHUTDOWN_RULES]

EXPECTED = {
    "plain": {
        "CANCEL-CLEANUP-01",
        "CANCEL-PROMPT-01",
        "CANCEL-SLOW-01",
        "CANCEL-SLOW-02",
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


async def shutdown_violations(target: str, server: str | None = None) -> dict[str, str]:
    """``{rule ID: message}`` of the shutdown checks that fail against the app named *target*,
    served by *server* (uvicorn when ``None``)."""
    failed = {}
    for rule_id, _, check in SHUTDOWN_CHECKS:
        try:
            await check(target=load_target(target, server=server))
        except pytest.skip.Exception:
            raise
        except Exception as error:
            failed[rule_id] = str(error)
    return failed


async def shutdown_failures(target: str, server: str | None = None) -> set[str]:
    """The shutdown checks that fail against the app named *target* (run in child processes)."""
    return set(await shutdown_violations(target, server))


async def test_shutdown_checks_pass_on_the_reference_and_fail_where_they_should(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An app whose endless stream ignores shutdown hangs; a process-wide flag leaks."""
    assert await shutdown_failures("impl.app:app") == set()
    shorten_guards(monkeypatch)
    assert "CANCEL-SHUTDOWN-01" in await shutdown_failures("tests.broken.cancel_apps:plain")
    assert await shutdown_failures("tests.broken.global_shutdown:app") == {"CANCEL-SHUTDOWN-02"}


@pytest.mark.parametrize("server", SERVERS)
async def test_shutdown_checks_fail_where_they_should_on_each_server(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streams that wait for the lifespan shutdown fail both rules on every server (hypercorn
    and granian end it after the open responses too); a process-wide flag raised by a chained
    signal handler fails the second. The reference passes both: tests/test_servers.py."""
    shorten_guards(monkeypatch)
    failed = await shutdown_violations("tests.broken.lifespan_shutdown:app", server)
    assert set(failed) == set(SHUTDOWN_RULES)
    assert "the first server's held stream after SIGTERM" in failed["CANCEL-SHUTDOWN-02"]
    assert await shutdown_failures("tests.broken.signal_flag:app", server) == {"CANCEL-SHUTDOWN-02"}


async def failures(app: Any) -> dict[str, str]:
    """``{check[params]: rule ID}`` of the CANCEL checks that fail against *app*."""
    failed: dict[str, str] = {}
    with serve(app) as url:
        fixtures = {
            "stream_client": AsgiClient(app),
            "target": Target("app", app),
            "live_url": url,
            "capabilities": await fetch_capabilities(AsgiClient(app)),
        }
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


async def test_no_check_depends_on_the_default_send_timeout() -> None:
    """The surface leaves ``send_timeout``'s default to the server, none included."""
    assert await failures(create_app(Settings(send_timeout=None))) == {}


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


@pytest.mark.parametrize("kind", cancel.KINDS)
async def test_the_prompt_bound_is_sharp(kind: str) -> None:
    """CANCEL-PROMPT-01 passes an app that asks for 16 items after the disconnect and fails one
    that asks for 17, for each kind of producer (``late`` in tests/broken/cancel_apps.py)."""
    check = cancel.check_at_most_16_items_after_disconnect
    bound = cancel.PROMPT_ITEMS
    await check(target=Target("app", cancel_apps.cancel_app("late", late_by=bound)), kind=kind)
    with pytest.raises(RuleViolation) as failure:
        await check(
            target=Target("app", cancel_apps.cancel_app("late", late_by=bound + 1)), kind=kind
        )
    assert str(failure.value.seen).startswith(f"{bound + 1} (")


async def test_shutdown_handling_that_never_fires_fails_both_shutdown_rules() -> None:
    """Streams that wait for the lifespan shutdown never end on SIGTERM, on either server.

    CANCEL-SHUTDOWN-02 must not pass a target whose first server never shut
    down: nothing then showed that its shutdown stays out of the second.
    """
    failed = await shutdown_violations("tests.broken.lifespan_shutdown:app")
    assert set(failed) == set(SHUTDOWN_RULES)
    assert "the first server's held stream after SIGTERM" in failed["CANCEL-SHUTDOWN-02"]
    assert "still open" in failed["CANCEL-SHUTDOWN-02"]


async def test_a_process_wide_flag_ends_the_second_servers_held_stream() -> None:
    """The second server's held stream is judged too: the leaked flag ends it before its event."""
    failed = await shutdown_violations("tests.broken.global_shutdown:app")
    assert set(failed) == {"CANCEL-SHUTDOWN-02"}
    assert (
        "the events of the second server's held stream before SIGTERM"
        in (failed["CANCEL-SHUTDOWN-02"])
    )


async def test_shutdown_checks_take_any_final_event() -> None:
    """The final event may be of any type and data: ``data: bye`` passes as the reference's does."""
    assert await shutdown_failures("tests.allowed.cancel_apps:other_farewell") == set()


async def test_an_app_that_returns_without_its_final_message_passes_error_01() -> None:
    """Raising and returning without ``more_body`` false leave the body unfinished alike."""
    app = allowed.unfinished_on_error
    with serve(app) as url:
        for client in (AsgiClient(app), SocketClient(url)):
            await cancel.check_producer_error_aborts_the_body(stream_client=client)


async def test_a_body_completed_after_the_error_fails_error_01_saying_so() -> None:
    app = cancel_apps.cancel_app("swallowing")
    with serve(app) as url:
        for client in (AsgiClient(app), SocketClient(url)):
            with pytest.raises(RuleViolation) as failure:
                await cancel.check_producer_error_aborts_the_body(stream_client=client)
            assert failure.value.what.startswith("how the body ended after the producer failed")
            assert str(failure.value.seen).startswith("completed")


async def test_the_gap_is_judged_for_a_buffer_larger_than_64() -> None:
    """A feed that holds 1000 events is pushed past them: a correct one passes, one without
    the gap event fails (neither is reported not observable)."""
    check = cancel.check_client_too_far_behind_is_told
    try:
        await check(stream_client=AsgiClient(allowed.big_feed))
    except pytest.skip.Exception as skipped:
        pytest.fail(f"a feed of 1000 events was not judged: {skipped}")
    with pytest.raises(RuleViolation):
        await check(stream_client=AsgiClient(cancel_apps.cancel_app("no_gap", feed_capacity=1000)))
