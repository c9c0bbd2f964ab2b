"""The reference without :mod:`impl.abort`: its streams end on a send timeout, and on
shutdown, but their connections are left to the server to close.

Everything else is the reference's (its kit, its responses, its send timeouts, its
shutdown notice). Under uvicorn the server closes such a connection gracefully,
behind the bytes it buffered for a client that no longer reads, so that client's
connection stays established (``CANCEL-SLOW-02`` fails) and uvicorn's shutdown,
which waits for every connection to be gone, waits for it (``CANCEL-SHUTDOWN-03``
fails). Every other rule is the reference's to pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from impl import demo
from impl.lifecycle import ShutdownNotice
from impl.settings import Settings
from impl.surface import surface
from spec.kit import Kit


def create_app(settings: Settings | None = None) -> Kit:
    """:func:`impl.app.create_app`, less its :class:`~impl.abort.Aborting` wrapper."""
    settings = settings or Settings.from_environment()
    notice = ShutdownNotice()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with notice.watching_signals():
            yield

    application = FastAPI(title="the reference, unaborted", lifespan=lifespan)
    application.include_router(demo.build_router(settings, notice))
    return surface(settings, notice, application)


app = create_app()
