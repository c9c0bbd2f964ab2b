"""Gates: let the suite decide when a conformance stream's producer makes its next chunk.

A stream requested with ``gate=NAME`` produces its first chunk at once, then
waits at the gate before each further chunk until the suite opens it once
(``POST /conformance/gates/NAME/open``). The suite learns that the producer is
waiting with ``POST /conformance/gates/NAME/wait``, and so can look at what the
client has received while the producer is known to be blocked: ordering by
events, not by sleeps. ``DELETE /conformance/gates/NAME`` opens the gate for
good (the producer runs to its end), which the suite does when it is done.
With ``gate_first=true`` as well, the producer waits at the gate before its
first chunk too, so the suite can look at a response whose first item does
not exist yet (its status and headers).

State is bounded: at most :data:`CAPACITY` gates at once (more get 503), a
gate lives only as long as its stream, and a producer waits at most
:data:`PATIENCE` seconds for each opening before it ends its stream
abnormally, so a client that never opens the gate leaks nothing.

Written by hand: this is the surface's own small protocol (see the chapter
"Conformance surface"); no library implements it. Moved from the reference
app (``impl/gates.py``); an app that builds a surface of its own (as the
broken apps of ``tests/broken`` do) may use :func:`gated`, :func:`claim_or_refuse`
and :data:`router` as they are.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from spec.surface import GATES_PATH

T = TypeVar("T")

CAPACITY = 64
"""How many gates may exist at once."""

PATIENCE = 30.0
"""Seconds a producer waits for its gate to open, and a ``wait`` call for a producer to block."""

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NAME_RULE = "a gate name is 1 to 64 of A-Z a-z 0-9 _ -"


class GateError(Exception):
    """A gate cannot be claimed; ``status`` is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class GateTimeout(Exception):
    """Nobody opened the gate within :data:`PATIENCE`: the stream ends abnormally."""


@dataclass(eq=False)
class Gate:
    """The gate one stream's producer waits at.

    Attributes:
        produced: how many chunks the producer has made so far.
        waiting: whether the producer is blocked at the gate right now.
        ended: whether the stream has ended (the gate is then out of the registry).
        first: whether the producer waits at the gate before its first chunk too.
        started: whether the producer has begun (a gate claimed by a request
            whose body never started is swept after PATIENCE).
        claimed_at: when the stream's request claimed the gate (monotonic clock).
    """

    name: str
    first: bool = False
    produced: int = 0
    waiting: bool = False
    ended: bool = False
    started: bool = False
    claimed_at: float = field(default_factory=time.monotonic)
    _permits: int = 0
    _unlocked: bool = False
    _changed: anyio.Event = field(default_factory=anyio.Event)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def before_chunk(self) -> None:
        """Block the producer until the gate is opened once (or for good); raise GateTimeout."""
        self.waiting = True
        self._notify()
        try:
            with anyio.move_on_after(PATIENCE):
                while not (self._permits or self._unlocked):
                    await self._changed.wait()
            if not (self._permits or self._unlocked):
                raise GateTimeout(f"gate {self.name} was not opened within {PATIENCE}s")
            if not self._unlocked:
                self._permits -= 1
        finally:
            self.waiting = False

    def made_chunk(self) -> None:
        """Count one chunk made by the producer."""
        self.produced += 1
        self._notify()

    def open(self) -> None:
        """Let the producer make one more chunk (openings add up)."""
        self._permits += 1
        self._notify()

    def unlock(self) -> None:
        """Open the gate for good: the producer runs to the end without waiting."""
        self._unlocked = True
        self._notify()

    def end(self) -> None:
        """Mark the stream ended, waking whoever waits for the producer."""
        self.ended = True
        self._notify()

    async def until_waiting(self) -> None:
        """Return once the producer waits at the gate or the stream has ended (or PATIENCE)."""
        with anyio.move_on_after(PATIENCE):
            while not (self.waiting or self.ended):
                await self._changed.wait()


class GateRegistry:
    """The gates of one app, by name; bounded by :data:`CAPACITY`."""

    def __init__(self) -> None:
        self._gates: dict[str, Gate] = {}
        # Who waits for a gate to be claimed: one event per waiter, made in the waiter's
        # own event loop (the same app may be served by several loops, one at a time).
        self._awaited: dict[str, list[anyio.Event]] = {}
        # The last CAPACITY gates whose streams ended, so that a ``wait`` arriving after
        # the end is answered at once.
        self._ended: OrderedDict[str, Gate] = OrderedDict()

    def claim(self, name: str, *, first: bool = False) -> Gate:
        """A new gate for a stream about to start; raise GateError (400, 409, 503).

        With *first* the producer waits at the gate before its first chunk too.
        """
        if not _NAME.match(name):
            raise GateError(400, _NAME_RULE)
        self._sweep()
        if name in self._gates:
            raise GateError(409, f"gate {name} is held by another stream")
        if len(self._gates) >= CAPACITY:
            raise GateError(503, f"too many gates at once (at most {CAPACITY})")
        gate = Gate(name, first=first)
        self._gates[name] = gate
        self._ended.pop(name, None)
        for event in self._awaited.get(name, []):
            event.set()
        return gate

    def get(self, name: str) -> Gate | None:
        return self._gates.get(name)

    async def await_claim(self, name: str) -> Gate | None:
        """The gate *name* once a stream claims it (at once if one has), ``None`` after PATIENCE.

        A gate whose stream has recently ended is returned too (its ``ended`` is
        set). Raise GateError (503) when too many names are awaited at once.
        """
        gate = self._gates.get(name) or self._ended.get(name)
        if gate is not None:
            return gate
        if not _NAME.match(name):
            return None
        if len(self._awaited) >= CAPACITY and name not in self._awaited:
            raise GateError(503, f"too many gates awaited at once (at most {CAPACITY})")
        event = anyio.Event()
        waiters = self._awaited.setdefault(name, [])
        waiters.append(event)
        try:
            with anyio.move_on_after(PATIENCE):
                await event.wait()
        finally:
            waiters.remove(event)
            if not waiters:
                del self._awaited[name]
        # (a stream that was claimed and has ended since is answered too)
        return self._gates.get(name) or self._ended.get(name)

    def release(self, gate: Gate) -> None:
        """Forget *gate*: its stream has ended."""
        if self._gates.get(gate.name) is gate:
            del self._gates[gate.name]
            self._ended[gate.name] = gate
            while len(self._ended) > CAPACITY:
                self._ended.popitem(last=False)
        gate.end()

    def __len__(self) -> int:
        return len(self._gates)

    def _sweep(self) -> None:
        # A gate whose stream never started (the client left before the body) has no
        # producer to release it; drop it once it has waited longer than PATIENCE.
        now = time.monotonic()
        for gate in list(self._gates.values()):
            if not gate.started and now - gate.claimed_at > PATIENCE:
                self.release(gate)


def registry_of(request: Request) -> GateRegistry:
    """The gate registry of the app serving *request* (made on first use): in a
    :class:`~spec.kit.Kit`, the kit's own (``Kit.gates``)."""
    state = request.app.state
    registry: GateRegistry | None = getattr(state, "gates", None)
    if registry is None:
        registry = GateRegistry()
        state.gates = registry
    return registry


async def gated(
    chunks: Iterable[T], gate: Gate | None, registry: GateRegistry
) -> AsyncGenerator[T, None]:
    """Yield *chunks*, waiting at *gate* (if any) before each chunk after the first.

    A gate claimed with ``first`` is waited at before the first chunk too. The
    gate is released when the stream ends, however it ends.
    """
    if gate is not None:
        gate.started = True
    try:
        for index, chunk in enumerate(chunks):
            if gate is not None:
                if index or gate.first:
                    await gate.before_chunk()
                gate.made_chunk()
            yield chunk
    finally:
        if gate is not None:
            registry.release(gate)


_FIRST = {"true": True, "false": False}


def claim_or_refuse(request: Request, name: str | None) -> Gate | Response | None:
    """The gate a stream request names (``None`` if it names none), or the response refusing it.

    The request's ``gate_first`` parameter (``true`` or ``false``, the default)
    says whether the producer waits before its first chunk too.

    A ``HEAD`` claims no gate (``None``, once the name is checked): its response has
    no body, so no producer would ever wait at the gate or release it, and the name
    would be held, and a place of :data:`CAPACITY` taken, until the sweep.
    """
    first = request.query_params.get("gate_first", "false")
    if first not in _FIRST:
        return PlainTextResponse("refused: gate_first is true or false\n", status_code=400)
    if name is None:
        return None
    if request.method == "HEAD":
        if not _NAME.match(name):
            return PlainTextResponse(f"refused: {_NAME_RULE}\n", status_code=400)
        return None
    try:
        return registry_of(request).claim(name, first=_FIRST[first])
    except GateError as error:
        return PlainTextResponse(f"refused: {error}\n", status_code=error.status)


router = APIRouter()


def _unknown(name: str) -> Response:
    return PlainTextResponse(f"no stream holds gate {name}\n", status_code=404)


@router.post(GATES_PATH + "/{name}/wait")
async def wait(name: str, request: Request) -> Response:
    """Answer once the producer waits at the gate (or its stream has ended): its state as JSON.

    The stream may not have reached the server yet: a gate no stream holds is
    awaited for up to PATIENCE seconds, then answered with 404.
    """
    try:
        gate = await registry_of(request).await_claim(name)
    except GateError as error:
        return PlainTextResponse(f"refused: {error}\n", status_code=error.status)
    if gate is None:
        return _unknown(name)
    await gate.until_waiting()
    return JSONResponse({"waiting": gate.waiting, "produced": gate.produced})


@router.post(GATES_PATH + "/{name}/open")
async def open_once(name: str, request: Request) -> Response:
    """Let the producer make one more chunk."""
    gate = registry_of(request).get(name)
    if gate is None:
        return _unknown(name)
    gate.open()
    return Response(status_code=204)


@router.delete(GATES_PATH + "/{name}")
async def unlock(name: str, request: Request) -> Response:
    """Open the gate for good: the producer runs to the end of its stream."""
    gate = registry_of(request).get(name)
    if gate is None:
        return _unknown(name)
    gate.unlock()
    return Response(status_code=204)
