"""Build the reference app: ``create_app(settings)``, and ``app`` built from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from impl import demo, index
from impl.abort import Aborting, aborting
from impl.lifecycle import ShutdownNotice
from impl.settings import Settings
from impl.surface import surface


def create_app(settings: Settings | None = None) -> Aborting:
    """The conformance surface (:mod:`spec.kit`, with the reference's streams) in front of a
    FastAPI app with the demo streams and, at ``/``, their index (:mod:`impl.index`).

    Each app has its own shutdown notice (see :mod:`impl.lifecycle`), armed
    while the FastAPI app's lifespan runs (the kit forwards lifespan events to
    it), and its own record of the surface's streams. A response the app leaves
    unfinished (a send timeout, a farewell a stalled reader cannot take) ends
    with its connection reset (:mod:`impl.abort`), so that no stalled reader
    holds a connection, its buffers or the server's shutdown.
    """
    settings = settings or Settings.from_environment()
    notice = ShutdownNotice()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with notice.watching_signals():
            yield

    application = FastAPI(
        title="streamspec reference implementation", version="0.1.0", lifespan=lifespan
    )
    demos = demo.build_router(settings, notice)
    application.include_router(demos)
    application.include_router(index.build_router(demos.routes))
    return aborting(surface(settings, notice, application))


app = create_app()
