"""Build the reference app: ``create_app(settings)``, and ``app`` built from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from impl import demo, surface, surface_hdr
from impl.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """A FastAPI app with the demo streams and the conformance surface."""
    settings = settings or Settings.from_environment()
    application = FastAPI(title="streamspec reference implementation", version="0.1.0")
    application.include_router(demo.build_router(settings))
    application.include_router(surface.router)
    application.include_router(surface_hdr.router)
    return application


app = create_app()
