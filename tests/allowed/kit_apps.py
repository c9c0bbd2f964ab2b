"""Kit targets that serve the surface another way than the reference: allowed, they must pass.

* ``sse_only``: the reference's own SSE response (``EventStreamResponse``) is the
  kit's only factory, so the kit serves the CANCEL chapter's endless producers
  as ``text/event-stream``, one event a line, as the surface chapter allows
  (sse-starlette is served this way). The checks that read the items must read
  them from events.
"""

from __future__ import annotations

from impl.sse import EventStreamResponse
from spec.kit import SSE, Kit, SSERequest


def _events(request: SSERequest) -> EventStreamResponse:
    return EventStreamResponse(
        request.events,
        headers=request.headers,
        keepalive=request.keepalive,
        send_timeout=request.send_timeout,
    )


sse_only = Kit(sse=SSE(_events))

ALLOWED = {"sse_only": "CANCEL-BLOCKED-01,CANCEL-ERROR-01,CANCEL-CLEANUP-01,CANCEL-PROMPT-01"}
"""The rules each app must pass (comma-separated globs, as ``--rules``)."""
