"""The suite's side of the surface's gates: hold a producer still, look, then let it go on.

A check asks for a stream with ``gate=NAME`` (a fresh name from
:func:`new_gate`), then, through a :class:`GateControl` on the same transport
(in-process for the ASGI harness, another TCP connection for a live server):

* :meth:`GateControl.wait` returns once the producer is blocked at the gate,
  with the number of chunks it has made: the check now knows the producer
  cannot make another chunk, and looks at what the client has;
* :meth:`GateControl.open` lets it make one more;
* :meth:`GateControl.unlock` (always, on the way out) lets it run to its end.

A target that does not honour the gate cannot show what these checks look
for: they end as not observable, and ``SURFACE-GATE-01`` fails.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from spec.streams import fetch
from spec.surface import gate_path
from spec.targets.client import StreamClient


def arrival_guard() -> float:
    """Seconds an item may take to reach the client while its producer is held at a gate.

    A window, not a speed target: a correct server's item arrives in
    milliseconds; one still missing after this long (5 s, or
    ``STREAMSPEC_ARRIVAL_GUARD`` seconds, read at each call) is held back.
    Waited for with :func:`spec.patience.within`, so it stretches on a loaded
    machine instead of running out.
    """
    return float(os.environ.get("STREAMSPEC_ARRIVAL_GUARD", "5"))


def new_gate() -> str:
    """A gate name no other stream uses."""
    return f"g-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class GateState:
    """What ``POST /conformance/gates/NAME/wait`` answered."""

    waiting: bool
    produced: int


class GateControlError(AssertionError):
    """The target's gate control did not answer as the surface says."""


@dataclass
class GateControl:
    """Calls a target's gate control endpoints through *client*."""

    client: StreamClient

    async def wait(self, name: str) -> GateState:
        """Return once the producer behind *name* waits at its gate (or its stream ended)."""
        fetched = await fetch(self.client, "POST", gate_path(name, "wait"))
        if fetched.status != 200:
            raise GateControlError(f"POST {gate_path(name, 'wait')} answered {fetched.status}")
        try:
            members = json.loads(fetched.body)
            return GateState(bool(members["waiting"]), int(members["produced"]))
        except (ValueError, KeyError, TypeError) as error:
            raise GateControlError(f"POST {gate_path(name, 'wait')}: {error}") from None

    async def open(self, name: str) -> None:
        """Let the producer behind *name* make one more chunk."""
        fetched = await fetch(self.client, "POST", gate_path(name, "open"))
        if fetched.status != 204:
            raise GateControlError(f"POST {gate_path(name, 'open')} answered {fetched.status}")

    async def unlock(self, name: str) -> None:
        """Let the producer behind *name* run to its end (a gate already gone is fine)."""
        await fetch(self.client, "DELETE", gate_path(name))

    async def held_after(self, name: str, produced: int) -> str | None:
        """Wait until the producer is blocked after its chunk number *produced*.

        Return ``None`` when it is, or why the target does not hold its
        producer at the gate as the surface says (the check then ends as not
        observable, outside any task group that would wrap the skip).
        """
        try:
            state = await self.wait(name)
        except GateControlError as error:
            return f"the target's gate control does not work (SURFACE-GATE-01): {error}"
        if state != GateState(waiting=True, produced=produced):
            return (
                f"the target does not hold its producer at gate {name} (SURFACE-GATE-01): "
                f"expected it waiting after chunk {produced}, it answered {state}"
            )
        return None

    @asynccontextmanager
    async def unlocked_on_exit(self, name: str) -> AsyncIterator[None]:
        """Run the block, then open gate *name* for good, however the block ends."""
        try:
            yield
        finally:
            await self.unlock(name)
