"""The evidence a pass needs: what the target answered on the conformance surface.

A check of a target passes only after it has seen the surface it drives
answer as the surface says. Without this, a target that implements nothing
would pass every check that looks for the absence of something: an event
stream that carries no injected field, a download that serves no byte from
outside its root, a producer that leaks no thread. A ``404`` from a missing
endpoint is not a refusal, and nothing observed is not a pass.

Every transport of the suite (the ASGI harness, the httpx clients, the raw
sockets of :mod:`spec.wire`) calls :func:`record` with the path and status of
each response it receives. The plugin clears the record before each check
and, when a check of a target passes, asks :func:`missing` whether the check
earned it: at least one answer to a conformance path (other than
``/conformance/capabilities``, which only the capability rules may count)
with a status the surface defines for a request it serves, a ``2xx`` or
``304``. A pass that was not earned is reported *not observable*, with the
answers that were seen.

A target whose surface lives below a base path (``--target-prefix=/base``)
earns a pass only with an answer below it (``/base/conformance/...``, or an
intermediary's location below it, ``/base/documented/conformance/...``): a
check that asked outside the prefix saw some other endpoint, not the surface.
The plugin names the prefix once a session (:func:`below`).

This is a construction, not a rule-by-rule list: a new check is held to it
without doing anything.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import httpx

PREFIX = "/conformance/"
CAPABILITIES = "/conformance/capabilities"


_base = {"path": ""}
"""The target's base path (``""``, or ``/base``): where its surface lives."""


def below(prefix: str) -> None:
    """Count only answers below *prefix* (``/base``, or ``""`` for the root) as the surface's."""
    _base["path"] = prefix


@dataclass(frozen=True)
class Answer:
    """The path a request named and the status its response carried."""

    path: str
    status: int

    @property
    def served(self) -> bool:
        """Whether this is a conformance endpoint answering a request it serves.

        The path lies below the target's base path and names ``/conformance/``.
        """
        base = _base["path"]
        if base and not self.path.startswith(base + "/"):
            return False
        surface = PREFIX in self.path[len(base) :]
        return surface and (200 <= self.status < 300 or self.status == 304)

    @property
    def capabilities(self) -> bool:
        return self.path.split("?", 1)[0].endswith(CAPABILITIES)


_lock = threading.Lock()
_answers: list[Answer] = []


def record(path: str, status: int) -> None:
    """Note one response: the path of its request (query or not) and its status."""
    with _lock:
        _answers.append(Answer(path, status))


def reset() -> None:
    """Forget every answer (the plugin calls it before each check)."""
    with _lock:
        _answers.clear()


def answers() -> list[Answer]:
    """The answers recorded since the last :func:`reset`, in order."""
    with _lock:
        return list(_answers)


def missing(*, capabilities_count: bool = False) -> str | None:
    """``None`` when the answers recorded earn a pass; else why they do not.

    *capabilities_count*: the check is about the capability declaration, so
    an answer of ``/conformance/capabilities`` is evidence too.
    """
    seen = answers()
    if any(a.served and (capabilities_count or not a.capabilities) for a in seen):
        return None
    if not seen:
        return "the check received no response from the target"
    tally = Counter(f"{a.status} on {a.path.split('?', 1)[0]}" for a in seen)
    listed = ", ".join(f"{what} (x{count})" for what, count in tally.most_common(4))
    more = "" if len(tally) <= 4 else f", and {len(tally) - 4} more"
    return (
        "the target never answered a conformance endpoint as the surface says "
        f"(a 2xx or 304) during the check; it answered {listed}{more}"
    )


async def _httpx_response(response: httpx.Response) -> None:
    record(response.request.url.path, response.status_code)


HTTPX_HOOKS = {"response": [_httpx_response]}
"""``event_hooks`` for an ``httpx.AsyncClient`` whose answers are evidence."""
