"""Quart: a streamed ``Response`` and ``send_from_directory`` behind the kit.

Quart's responses are not ASGI applications (Quart sends them, inside its
request context), so the peer is a Quart app whose views build the library's
responses from the kit's request (:func:`spec.kit.request_of` on
``request.scope``), and the kit reaches them with :func:`spec.kit.routed`.

* Plain streams (text, log lines, echoed bytes, endless lines): a
  ``Response`` over the kit's producer as it is, Quart's streaming response
  (an async iterator; a sync one Quart iterates in its executor). Quart's
  response timeout (``RESPONSE_TIMEOUT``, 60 s for the whole response) stays
  at its default: Quart has no per-send timeout to give the suite's.
* Downloads: ``send_from_directory(root, name, as_attachment=True,
  attachment_filename=...)``: Werkzeug's ``safe_join`` keeps the name below the
  root, and ``conditional=True`` (its default) answers ranges and validators.

Quart has no SSE API (its documentation builds the event strings by hand), so
the peer serves no SSE.
"""

from __future__ import annotations

from typing import TypeVar, cast

from quart import Quart, Response, request, send_from_directory

from spec.kit import Download, DownloadRequest, Kit, Stream, StreamRequest, request_of, routed
from spec.targets.asgi_types import ASGIApp

R = TypeVar("R")

quart_app = Quart(__name__)


def kit_request(kind: type[R]) -> R:
    found = request_of(request.scope)
    if not isinstance(found, kind):
        raise TypeError(f"expected a {kind.__name__}, the kit routed a {type(found).__name__}")
    return found


@quart_app.route("/stream", methods=["GET", "POST"])
async def stream() -> Response:
    asked = kit_request(StreamRequest)
    return Response(asked.body, content_type=asked.media_type, headers=dict(asked.headers))


@quart_app.route("/download")
async def download() -> Response:
    asked = kit_request(DownloadRequest)
    return await send_from_directory(
        asked.root, asked.name, as_attachment=True, attachment_filename=asked.filename
    )


asgi = cast("ASGIApp", quart_app)

app = Kit(
    stream=Stream(routed(asgi, "/stream")),
    download=Download(routed(asgi, "/download")),
    app=asgi,
)
