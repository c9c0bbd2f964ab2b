"""What a target declares it implements, and how checks require it.

A target answers ``GET /conformance/capabilities`` with a JSON object of
booleans, for example ``{"sse": true, "text": true, "files": false,
"observe": false}`` (the chapter "Conformance surface" is the contract). Two
sorts of capability:

* a *stream* capability (``sse``, ``text``, ``files``, ``comments``) says
  which streams (and SSE comments) the target serves; a rule about a stream it
  declares it does not serve is **not applicable**;
* an *observation* capability (``observe``) says the target lets the suite see
  server-side facts; a rule that needs one it does not offer is **not
  observable**.

Verdicts come from the declaration, never from failures. A target that does
not answer (or answers something else than an object of booleans) declares
nothing: it is held to every stream rule, offers no observation, and fails
``SURFACE-CAP-01``.

A check (or a whole chapter module) states what it needs with
:func:`requires`; the plugin consults the declaration before the check runs::

    pytestmark = requires("files")          # every check of the module

    @requires("sse")
    @RULE.check
    async def check_...(stream_client): ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from spec.rules import not_applicable, not_observable

STREAMS = (
    "sse",
    "text",
    "files",
    "comments",
    "endless",
    "feed",
    "bytes",
    "log",
    "idle",
    "hold",
    "headers",
    "stop",
    "ndjson",
    "chat",
)
"""Capabilities that make rules applicable: the streams a target serves (one
name per endpoint of the surface: ``bytes`` and ``log`` for the CHUNK
chapter's, ``endless`` and ``feed`` for the CANCEL chapter's), ``comments``:
its SSE stream writes the ``comment`` member of an event (some libraries offer
no way to send a comment), ``hold``: its SSE endpoint honours ``hold`` (a
stream held open, for the shutdown rules), and ``idle``: it honours ``hold`` and
``keepalive`` (an idle stream at a chosen keep-alive interval, for the
keep-alive rules; ``idle`` implies ``hold`` where ``hold`` is not declared);
``headers``: its SSE and text endpoints add the ``headers`` the suite asks
for; ``stop``: it serves ``/conformance/sse/stop`` (the 204 that ends
reconnecting); ``ndjson``: it serves ``/conformance/ndjson`` (the NDJSON chapter); ``chat``: it
serves ``POST /conformance/chat`` (the chapter "AI token streams")."""

OBSERVATIONS = ("observe", "gates")
"""Capabilities that make rules observable. ``observe``: the observation
endpoint (a producer started, how many items it made, its cleanup ran);
``gates``: the gates that hold a producer until the suite lets it go on."""

KNOWN = (*STREAMS, *OBSERVATIONS)

IMPLIED_BY = {"hold": "idle"}
"""A capability left out of a declaration that another one implies: a target declaring
``idle`` (written before ``hold`` existed) holds streams too."""

MARKER = "requires"


def requires(*names: str) -> pytest.MarkDecorator:
    """Mark a check (or, as ``pytestmark``, a module) as needing capabilities *names*."""
    unknown = [name for name in names if name not in KNOWN]
    if unknown:
        raise ValueError(f"unknown capabilities {unknown}; known: {list(KNOWN)}")
    marker: pytest.MarkDecorator = getattr(pytest.mark, MARKER)(*names)
    return marker


UNDECLARED = "the target declares "
"""How the message of a check that is not applicable because the target declares a
capability false begins: the target (its library) has no API for that kind of stream
(:func:`spec.matrix.depth` counts those rules apart)."""


@dataclass(frozen=True)
class Capabilities:
    """A target's declaration, or the absence of one.

    Attributes:
        declared: the booleans the target declared, or ``None`` if it declared
            nothing usable.
        problem: why the declaration is unusable (empty when it is usable).
    """

    declared: Mapping[str, bool] | None
    problem: str = ""
    source: str = field(default="GET /conformance/capabilities")

    def __repr__(self) -> str:
        if self.declared is None:
            return f"Capabilities(None, {self.problem!r})"
        return f"Capabilities({dict(self.declared)!r})"

    def offers(self, name: str) -> bool:
        """Whether the target offers capability *name* (see the module docstring)."""
        if self.declared is None:
            return name in STREAMS
        if name in IMPLIED_BY and name not in self.declared:
            return self.offers(IMPLIED_BY[name])
        return bool(self.declared.get(name, False))

    def require(self, name: str) -> None:
        """Return if the target offers *name*; else end the check as not applicable/observable."""
        if self.offers(name):
            return
        if name in OBSERVATIONS:
            detail = (
                f"declared {name}: false"
                if self.declared is not None
                else f"no capability declaration ({self.problem}), so no {name} endpoint"
            )
            not_observable(f"the target offers no {name!r} observation ({detail})")
        not_applicable(f"{UNDECLARED}{name}: false in {self.source}")

    def as_json(self) -> dict[str, bool] | None:
        """The declaration as reported (``None`` when there is none)."""
        return None if self.declared is None else dict(self.declared)


def parse(status: int, body: bytes) -> Capabilities:
    """Read the answer to ``GET /conformance/capabilities``."""
    if status != 200:
        return Capabilities(None, f"status {status}")
    try:
        members = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        return Capabilities(None, f"not JSON: {error}")
    if not isinstance(members, dict):
        return Capabilities(None, f"not a JSON object: {members!r}")
    wrong = {key: value for key, value in members.items() if not isinstance(value, bool)}
    if wrong:
        return Capabilities(None, f"members that are not booleans: {wrong!r}")
    return Capabilities({str(key): value for key, value in members.items()})
