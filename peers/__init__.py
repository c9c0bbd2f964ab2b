"""Peers: other libraries' streaming APIs behind the conformance surface, for the matrix.

Each module here is a small adapter app: it reads the suite's request (which
events, which text chunks) and answers it with one library's own streaming
API, so that what reaches the wire is that library's work, not ours. The only
code of streamspec a peer uses is :mod:`peers.request`, which reads the
request's JSON parameters (nothing of it is written to the wire).

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
