"""One ``ast.parse`` at a time in the suite's process, on the CPythons where two at once fail.

The suite serves an ASGI target with uvicorn in a thread of its own process
(:mod:`spec.targets.server`). When the target raises, that thread logs the
traceback, and from 3.11 on the :mod:`traceback` module parses each source line
with :func:`ast.parse` to place its ``^^^`` carets. Meanwhile the main thread
formats the failing check's report, and pytest parses the whole chapter module
with :func:`ast.parse` to find the failing statement.

On CPython 3.11.0 to 3.11.7 the AST constructor keeps its recursion-depth
counter in state shared by every thread of the interpreter, and a garbage
collection in the middle of the construction (finalizers run Python code) can
hand the GIL to another thread. A parse in that thread then resets the counter,
and the first parse ends in ``SystemError: AST constructor recursion depth
mismatch`` (CPython gh-106905, fixed in 3.11.8 by a counter per call). Raised
inside pytest's report-making, it is an INTERNALERROR: no rule table, no report.
CPython 3.12.0 and 3.12.1 share the counter too, but collect garbage only
between bytecodes, never inside the construction, so no thread can cut in.

:func:`install` wraps :func:`ast.parse` in a process-wide re-entrant lock on
those versions, so that no two threads construct an AST at once; elsewhere it
does nothing. Every parse of the standard library and of pytest and hypothesis
goes through :func:`ast.parse`, so they are all covered.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

_INTERLEAVING = (((3, 11, 0), (3, 11, 8)),)
"""CPython versions ``[first, fixed)`` on which two threads' AST constructions interleave."""

_LOCK = threading.RLock()
_MARK = "__streamspec_serialised__"


def affected(version: tuple[int, ...] | None = None) -> bool:
    """Whether concurrent parses can fail on CPython *version* (default: this interpreter)."""
    if version is None:
        if sys.implementation.name != "cpython":
            return False
        version = tuple(sys.version_info[:3])
    return any(first <= version[:3] < fixed for first, fixed in _INTERLEAVING)


def install() -> bool:
    """Serialise :func:`ast.parse` across threads if this interpreter needs it.

    Idempotent. Returns whether :func:`ast.parse` is serialised after the call.
    The lock is re-entrant, so a parse started by a finalizer in the middle of
    another parse of the same thread is not blocked.
    """
    if getattr(ast.parse, _MARK, False):
        return True
    if not affected():
        return False
    parse: Callable[..., Any] = ast.parse

    @functools.wraps(parse)
    def serialised(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return parse(*args, **kwargs)

    setattr(serialised, _MARK, True)
    ast.parse = serialised
    return True
