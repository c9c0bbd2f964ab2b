"""Peers: other libraries' streaming APIs behind the conformance surface, for the matrix.

Each module here is a short file of factories for the kit (:mod:`spec.kit`):
the kit serves the whole conformance surface (parsing and refusals, gates,
endless producers with their observation records, the feed, the files, the
capabilities, computed) and hands each stream to the peer's factory, which
answers it with one library's own streaming API, so that what reaches the
wire, and how the producer is stopped, is that library's work, not ours.
Where a library's responses are not ASGI applications (Django, Litestar,
Quart, FastAPI's SSE), :func:`spec.kit.routed` reaches a route of the
library's own app. aiohttp is its own server (``peers.aiohttp_sse`` is a
command target): :mod:`spec.kit.aiohttp_kit` serves the kit's surface from an
aiohttp app and hands each stream to an aiohttp handler.

They live at the top level, beside ``impl/`` and apart from ``tests/``: they
are implementations under test, run by ``python -m spec.matrix peers/matrix.toml``
(``tox -e matrix``), not tests of the suite, and they need libraries (the
``matrix`` extra) that neither the suite nor its tests depend on. pytest does
not collect them.

A peer does not repair what its library does: where the library strips, splits
or refuses, the adapter passes the event on as it came, and the report says
what the library did. Where a library raises on an event, the adapter answers
400 if it can do so before the stream starts (that is the library refusing).
"""
