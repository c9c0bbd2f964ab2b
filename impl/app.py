"""Build the reference app: ``create_app(settings)``, and ``app`` built from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from impl import chunks, demo, gates, logs, surface, surface_hdr, surface_streams
from impl.lifecycle import ShutdownNotice
from impl.observations import Observations
from impl.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """A FastAPI app with the demo streams and the conformance surface.

    Each app has its own shutdown notice (see :mod:`impl.lifecycle`), armed
    while its lifespan runs, and its own record of the surface's streams.
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
    application.include_router(demo.build_router(settings, notice))
    application.include_router(surface.build_router(settings, notice))
    application.include_router(surface_streams.build_router(settings, Observations(), notice))
    application.include_router(chunks.router)
    application.include_router(logs.router)
    application.include_router(gates.router)
    application.include_router(surface_hdr.router)
    return application


app = create_app()
