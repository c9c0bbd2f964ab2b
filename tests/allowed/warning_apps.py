"""The reference app, warning as it serves: a verdict about the wire must not depend on warnings.

``warns``: every HTTP request first emits a ``ResourceWarning`` (as a library
that leaves a file for the garbage collector does, only deterministically).
What reaches the client is the reference's, so with ``--target-warnings=report``
(the default) it passes what the reference passes; with
``--target-warnings=error`` the warning is raised inside the app and the check
fails, which is what the repo's own tox run asks of the reference.
"""

from __future__ import annotations

import warnings

from impl.app import create_app
from spec.targets.asgi_types import ASGIApp, Receive, Scope, Send


def _warning(app: ASGIApp) -> ASGIApp:
    async def warning(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            warnings.warn("a file left for the garbage collector", ResourceWarning, stacklevel=1)
        await app(scope, receive, send)

    return warning


warns = _warning(create_app())
