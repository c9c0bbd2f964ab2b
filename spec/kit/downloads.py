"""``GET|HEAD /conformance/files/{name}[?as=]`` and ``POST /conformance/files/changing.bin``.

Moved from the reference app (``impl/surface.py``). The conformance files are
made on first use (:mod:`spec.kit.files`); a download is answered by the
implementation's Download factory with the name exactly as asked, hostile or
not: resolving it safely (``FILE-NAME-*``), reading without blocking,
ranges, validators and ``Content-Disposition`` are the library's work, judged
by the chapter "File download". Written by hand: the files and the resizing
control are streamspec's own protocol.
"""

from __future__ import annotations

import anyio
import anyio.to_thread
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from spec.kit import files
from spec.kit.api import DownloadRequest
from spec.kit.factories import Factories, respond
from spec.kit.streams import refuse
from spec.surface import CHANGING_FILE, FILES_PATH, download_name


def build_router(supplied: Factories) -> APIRouter:
    """The routes, when a Download factory was supplied (else none)."""
    router = APIRouter()
    download = supplied.download
    if download is None:
        return router

    @router.api_route(FILES_PATH + "/{name:path}", methods=["GET", "HEAD"])
    async def conformance_file(
        name: str,
        request: Request,
        send_timeout: float | None = Query(None, gt=0, le=3600),
    ) -> Response:
        """A conformance file, served by the library; ``?as=`` names it for the client,
        ``?send_timeout=`` bounds each send (else the library's default)."""
        try:
            offered = download_name(request.scope["query_string"])
        except ValueError as error:
            return refuse(400, error)
        served = await anyio.to_thread.run_sync(files.root)
        asked = DownloadRequest(
            root=served,
            name=name,
            filename=offered,
            scope=request.scope,
            send_timeout=send_timeout,
        )
        return await respond(download.factory, asked)

    @router.post(f"{FILES_PATH}/{CHANGING_FILE}")
    async def resize_changing_file(size: str = Query(...)) -> Response:
        """Set the length of ``changing.bin`` in place (the suite resizes it mid-download)."""
        try:
            await anyio.to_thread.run_sync(files.resize_changing, int(size))
        except ValueError as error:
            return refuse(400, error)
        return Response(status_code=204)

    return router
