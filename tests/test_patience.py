"""How a window shortens after a target stalls: only for waits of the same kind.

A target that let one verdict window run out gets :data:`spec.patience.BRIEF` for
the later windows of that kind, so a broken target does not sit out every long
window of the run. A wait of another kind keeps its length: before, one failed
window (a stalled reader's connection never reset, CANCEL-SLOW-02) cut the next
check's wait for the process to exit (CANCEL-SHUTDOWN-03) to 1 s, and a server
that exits correctly 8 s after SIGTERM failed it, in that order only.
"""

from __future__ import annotations

import anyio

from spec import patience


async def _never() -> None:
    await anyio.sleep_forever()


async def test_a_stall_shortens_the_windows_of_its_kind_only() -> None:
    patience.track_target_stalls()
    patience.track_stalls(enabled=False)
    assert patience.allowed(8.0, "window") == 8.0
    waited = await patience.within(0.1, _never)
    assert not waited.arrived
    assert patience.allowed(8.0, "window") == patience.BRIEF
    assert patience.allowed(8.0, "exit") == 8.0
    await patience.within(0.1, _never, kind="exit")
    assert patience.allowed(8.0, "exit") == patience.BRIEF


async def test_an_observation_period_is_neither_shortened_nor_recorded() -> None:
    patience.track_target_stalls()
    patience.track_stalls(enabled=False)
    await patience.within(0.1, _never, verdict=False)
    assert patience.allowed(8.0, "window") == 8.0
