"""CANCEL-SLOW-02 and CANCEL-SHUTDOWN-03 pass the reference and fail it without its abort.

The broken target is ``tests/broken/unaborted.py``: the reference less
:class:`impl.abort.Aborting`, so that a stream its send timeout or its shutdown
ended leaves its connection to uvicorn's graceful close, behind bytes a stalled
reader never takes. The checks are called directly: CANCEL-SLOW-02 for every
kind of stalled reader against each app served by uvicorn in a thread,
CANCEL-SHUTDOWN-03 against each started in a process of its own, as an ASGI
app (``uvicorn module:attr``) and as a command target. The windows are
shortened for the broken target only.
"""

from __future__ import annotations

import sys

import pytest

from impl.app import create_app
from spec import stalled
from spec.capabilities import Capabilities
from spec.chapters import cancel
from spec.probe import fetch_capabilities
from spec.rules import RuleViolation
from spec.targets.asgi_types import ASGIApp
from spec.targets.client import AsgiClient
from spec.targets.server import serve
from spec.targets.target import Target, load_target
from tests.broken import unaborted

pytestmark = pytest.mark.skipif(not stalled.observable(), reason="needs Linux's TCP_INFO")

UVICORN_COMMAND = f"{sys.executable} -m uvicorn {{app}} --host 127.0.0.1 --port {{port}}"


def shorten_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short windows, for the broken target only: it fails sooner with them."""
    monkeypatch.setenv("STREAMSPEC_PATIENCE", "1")
    monkeypatch.setattr(cancel, "SHUTDOWN_GRACE", 3.0)


async def slow_02_failures(app: ASGIApp) -> dict[str, str]:
    """``{kind: message}`` of the stalled kinds for which CANCEL-SLOW-02 fails on *app*."""
    declared: Capabilities = await fetch_capabilities(AsgiClient(app))
    failed = {}
    with serve(app) as url:
        for kind in stalled.KINDS:
            try:
                await cancel.check_send_timeout_aborts_a_stalled_readers_connection(
                    live_url=url, capabilities=declared, kind=kind
                )
            except RuleViolation as error:
                failed[kind] = str(error)
    return failed


async def shutdown_03(target: Target) -> str | None:
    """The message of CANCEL-SHUTDOWN-03's failure on *target*, ``None`` if it passes."""
    declared = await fetch_capabilities(AsgiClient(unaborted.app))
    try:
        await cancel.check_stalled_readers_do_not_hold_shutdown(
            target=target, capabilities=declared
        )
    except RuleViolation as error:
        return str(error)
    return None


async def test_slow_02_passes_the_reference_for_every_kind() -> None:
    assert await slow_02_failures(create_app()) == {}


async def test_slow_02_fails_every_kind_without_the_abort(monkeypatch: pytest.MonkeyPatch) -> None:
    shorten_windows(monkeypatch)
    failed = await slow_02_failures(unaborted.app)
    assert set(failed) == set(stalled.KINDS)
    assert all("still established" in message for message in failed.values()), failed


async def test_shutdown_03_passes_the_reference_by_module_and_by_command() -> None:
    assert await shutdown_03(load_target("impl.app:app")) is None
    command = UVICORN_COMMAND.format(app="impl.app:app", port="{port}")
    assert await shutdown_03(load_target(command=command)) is None


async def test_shutdown_03_fails_without_the_abort_by_module_and_by_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shorten_windows(monkeypatch)
    by_module = await shutdown_03(load_target("tests.broken.unaborted:app"))
    assert by_module is not None
    assert "still running" in by_module
    command = UVICORN_COMMAND.format(app="tests.broken.unaborted:app", port="{port}")
    by_command = await shutdown_03(load_target(command=command))
    assert by_command is not None
    assert "still running" in by_command


async def test_shutdown_03_is_not_observable_on_a_running_server() -> None:
    """A server named by its URL cannot be sent SIGTERM: no verdict, and no pass."""
    with serve(create_app()) as url, pytest.raises(pytest.skip.Exception, match="SIGTERM"):
        await shutdown_03(load_target(url))
