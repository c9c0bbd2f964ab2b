"""The reference app mounted below a base path inside a Starlette app, as a user's app
that exposes several implementations side by side mounts each (issue 12).

``--target=tests.targets.mounted:app --target-prefix=/base`` must get the same
verdicts as the reference at the root; any other prefix reaches no surface.
The outer app runs the reference's lifespan (a ``Mount`` does not), which arms
the reference's shutdown notice, and is wrapped in :class:`impl.abort.Aborting`
as the reference is: the abort needs the server's own ``send``, which Starlette's
middleware wraps before the mounted reference sees it (:mod:`impl.abort`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from impl.abort import aborting
from impl.app import create_app

PREFIX = "/base"

reference = create_app()
_demo = reference.app  # the kit forwards lifespan to the reference's own FastAPI app
assert isinstance(_demo, FastAPI)


@asynccontextmanager
async def _lifespan(_: Starlette) -> AsyncIterator[None]:
    async with _demo.router.lifespan_context(_demo):
        yield


app = aborting(Starlette(routes=[Mount(PREFIX, app=reference)], lifespan=_lifespan))
