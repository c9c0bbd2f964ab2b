"""How long the suite waits for what a broken target never does, on a busy machine too.

A check waits in one of two ways:

* for something a correct target always brings about (a response, the end of
  a finite stream, the release of a gate it holds): the wait ends with that
  event, and ``anyio.fail_after`` only guards against a hang;
* for something a *broken* target may never do (clean up after a client left,
  send a keep-alive, end a stream on SIGTERM, pass on a chunk it holds back):
  the wait ends with the event, or with a **window**, and a window that ends
  first is the verdict, with what was waited for.

A window must be one a correct target meets under any load, and short enough
that a broken target fails in seconds. :func:`within` keeps both promises by
counting only the time during which this process was running promptly: a
clock ticks every :data:`TICK` seconds and credits at most two ticks for each
wake-up, so when the machine is so loaded that the suite (and with it the
in-process server, or a server competing for the same cores) is not
scheduled, the window stretches instead of running out. On an idle machine a
window lasts what it says.

``STREAMSPEC_PATIENCE`` (seconds, default 5) sets :func:`patience`, the
window for what a correct target does at once.

A target that has once let a window or a hang guard of one kind run out in
a session (it withheld headers, or a cleanup) has shown that it fails that
way; every later wait of that kind in the session is then :data:`BRIEF`, so
that a target that withholds everything fails in seconds instead of sitting
out every window. A correct target never lets a window run out, so its
windows are never shortened.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

from spec.rules import violation

T = TypeVar("T")

TICK = 0.05
"""Seconds between two ticks of a window's clock."""

BRIEF = 1.0
"""Seconds of every window and guard once the target has let one run out in this session."""


def patience() -> float:
    """The window, in seconds, for what a correct target does at once (read at each call).

    Five seconds, or ``STREAMSPEC_PATIENCE``: a correct target takes
    milliseconds, and the window stretches on a loaded machine.
    """
    return float(os.environ.get("STREAMSPEC_PATIENCE", "5"))


@dataclass(frozen=True)
class Waited(Generic[T]):
    """What :func:`within` saw: the result, or that the window ran out first.

    ``value`` is meaningful only when ``arrived`` is true; ``seconds`` is the
    wall time the wait took (more than the window on a loaded machine).
    """

    arrived: bool
    value: T | None
    seconds: float


async def load_aware_sleep(seconds: float) -> None:
    """Sleep until *seconds* of prompt running have passed (see the module docstring)."""
    credited = 0.0
    while credited < seconds:
        started = time.monotonic()
        await anyio.sleep(min(TICK, seconds - credited))
        credited += min(time.monotonic() - started, 2 * TICK)


async def within(
    seconds: float,
    wait: Callable[[], Awaitable[T]],
    *,
    verdict: bool = True,
    kind: str = "window",
) -> Waited[T]:
    """Run ``wait()`` until it returns, or until a load-aware window of *seconds* runs out.

    With *verdict* (the default) a window that runs out is the target's
    failure: it is recorded (see :func:`allowed`), and the window is
    :data:`BRIEF` if the target has failed one of the same *kind* before (a
    window of another kind, a process's exit after a stalled connection's
    reset, keeps its length: what a target fails in one way says nothing of
    how long it takes to do another thing right). Without it the window is
    an observation period, whose end is what a correct target shows (nothing
    more was sent): it is neither shortened nor recorded.

    An exception raised by ``wait()`` (a RuleViolation, a skip) is raised here
    as it is, not wrapped in an exception group.
    """
    if verdict:
        seconds = allowed(seconds, kind)
    outcome: list[T] = []
    raised: list[BaseException] = []
    started = time.monotonic()
    cancelled = anyio.get_cancelled_exc_class()

    async with anyio.create_task_group() as group:

        async def run() -> None:
            try:
                outcome.append(await wait())
            except cancelled:
                raise
            except BaseException as error:  # handed to the caller below, unwrapped
                raised.append(error)
            group.cancel_scope.cancel()

        group.start_soon(run)
        await load_aware_sleep(seconds)
        group.cancel_scope.cancel()
    if raised:
        raise raised[0]
    elapsed = time.monotonic() - started
    if outcome:
        return Waited(True, outcome[0], elapsed)
    if verdict:
        _record_target_stall(kind, f"a wait of {seconds:g} s ran out")
    return Waited(False, None, elapsed)


@dataclass
class Stalls:
    """What one check has already waited for in vain (the first such wait), if anything.

    A property check runs its body for many examples, and shrinks a failing
    one by running it again and again: against a target that stalls, each run
    would sit out the same guard. Once a guard of the check has run out, its
    later guards fail at once, saying what the first one waited for.
    """

    first: str | None = None
    kinds: set[str] = field(default_factory=set)


_STALLS: ContextVar[Stalls | None] = ContextVar("streamspec_stalls", default=None)
_TARGET_STALLS: ContextVar[Stalls | None] = ContextVar("streamspec_target_stalls", default=None)


def track_target_stalls() -> Stalls:
    """Start tracking the stalls of the target of this session (the plugin's ``target`` does)."""
    stalls = Stalls()
    _TARGET_STALLS.set(stalls)
    return stalls


def allowed(seconds: float, kind: str) -> float:
    """The window or guard of *kind* to use for *seconds*: itself; or :data:`BRIEF` (if
    shorter) once the target of this session has let one of that kind run out (headers it
    withholds, a cleanup it never runs); or a tenth of that once the check at hand has (an
    earlier example of a property)."""
    check = _STALLS.get()
    if check is not None and check.first is not None:
        return min(seconds, BRIEF / 10)
    stalls = _TARGET_STALLS.get()
    if stalls is not None and kind in stalls.kinds:
        return min(seconds, BRIEF)
    return seconds


def record_stall(kind: str, what: str) -> None:
    """Note that the target let a guard of *kind* run out waiting for *what*."""
    check = _STALLS.get()
    if check is not None and check.first is None:
        check.first = what
    _record_target_stall(kind, what)


def _record_target_stall(kind: str, what: str) -> None:
    stalls = _TARGET_STALLS.get()
    if stalls is not None:
        stalls.first = stalls.first or what
        stalls.kinds.add(kind)


def track_stalls(*, enabled: bool = True) -> Stalls | None:
    """Start tracking the stalls of the check about to run (the plugin calls it per check),
    or, not *enabled*, stop tracking them."""
    stalls = Stalls() if enabled else None
    _STALLS.set(stalls)
    return stalls


@contextmanager
def guarded(what: str, seconds: float, kind: str = "guard") -> Iterator[None]:
    """A hang guard that fails the check naming what it waited for.

    The block waits for something a correct target brings about at once; if
    it has not come after *seconds*, the check fails with a RuleViolation that
    says what did not arrive (never a bare TimeoutError). In a check whose
    guard has already run out once (an earlier example of a property), the
    block is not run and the check fails at once, naming both. Use it
    outside task groups, which would wrap the violation.
    """
    stalls = _STALLS.get()
    if stalls is not None and stalls.first is not None:
        violation(
            what,
            f"within {seconds:g} s",
            f"not waited for: earlier in this check, {stalls.first}",
        )
    seconds = allowed(seconds, kind)
    with anyio.move_on_after(seconds) as scope:
        yield
    if scope.cancelled_caught:
        if stalls is not None:
            stalls.first = f"{what} did not arrive within {seconds:g} s"
        _record_target_stall(kind, f"{what} did not arrive within {seconds:g} s")
        violation(what, f"within {seconds:g} s", f"did not arrive within {seconds:g} s")
