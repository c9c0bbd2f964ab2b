"""Shutdown kept in a process-wide flag, as sse-starlette's ``AppStatus`` does.

The flag is raised by wrapping ``uvicorn.Server.handle_exit`` for the whole
process and is never lowered, so the first server's shutdown also ends every
stream of any server started later in the same process, at once. Streams
otherwise end properly on shutdown, with a final event.
"""

from __future__ import annotations

from types import FrameType

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from spec.surface import SSE_PATH
from tests.broken.signal_flag import AppStatus, sse

_original_handle_exit = uvicorn.Server.handle_exit


def _handle_exit(self: uvicorn.Server, sig: int, frame: FrameType | None) -> None:
    AppStatus.should_exit = True
    _original_handle_exit(self, sig, frame)


uvicorn.Server.handle_exit = _handle_exit  # type: ignore[method-assign]

app = Starlette(routes=[Route(SSE_PATH, sse)])
