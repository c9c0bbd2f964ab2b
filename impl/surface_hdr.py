"""The surface endpoint of the header chapter: the 204 stop.

See ``spec/surface_hdr.py`` for its contract. The chapter's streams are the
surface's ``/conformance/sse`` and ``/conformance/text`` (with ``gate``,
``gate_first`` and ``headers``), served by :mod:`impl.surface`.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from spec.surface_hdr import SSE_STOP_PATH

router = APIRouter()


@router.get(SSE_STOP_PATH)
async def sse_stop() -> Response:
    """A stream that is over for good: 204 tells an EventSource not to reconnect."""
    return Response(status_code=204)
