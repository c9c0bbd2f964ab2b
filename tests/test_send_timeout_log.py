"""A send timeout is the reference's answer to a client that stopped reading, not an error.

When a chunk is not taken within the send timeout, the reference's response
raises :class:`impl.streaming.SlowClient` and :mod:`impl.abort` resets the
connection. Before, the exception went on to uvicorn, which logged every such
reader as "Exception in ASGI application" with a traceback (the same noise as
issue 14's reproduction 13, for a client that left mid-upload).
"""

from __future__ import annotations

import logging

import pytest

from impl.app import create_app
from spec import patience
from spec.capabilities import Capabilities
from spec.chapters import cancel
from spec.probe import fetch_capabilities
from spec.stalled import KINDS, observable
from spec.targets.client import AsgiClient
from spec.targets.server import serve

pytestmark = pytest.mark.skipif(not observable(), reason="needs Linux's TCP_INFO")


async def test_a_stalled_reader_is_reset_without_an_application_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A window another test let run out would be brief here: this test's own tracker.
    patience.track_target_stalls()
    app = create_app()
    declared: Capabilities = await fetch_capabilities(AsgiClient(app))
    # uvicorn's loggers do not propagate, and its start configures them afresh: listen on
    # its error log once it is serving.
    server_log = logging.getLogger("uvicorn.error")
    try:
        with serve(app) as url:
            server_log.addHandler(caplog.handler)
            for kind in KINDS:
                await cancel.check_send_timeout_aborts_a_stalled_readers_connection(
                    live_url=url, capabilities=declared, kind=kind
                )
    finally:  # the server has shut down: everything it logs is in
        server_log.removeHandler(caplog.handler)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [e for e in errors if "Exception in ASGI application" in e], errors
