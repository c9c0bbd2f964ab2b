"""The suite as a server: replay event streams to an SSE client and judge what it parsed.

The other chapters judge servers. This package turns the suite around (the
way Autobahn|Testsuite tests WebSocket clients): a replay server on
127.0.0.1 sends each case of the client chapter (``SSE-CLIENT``), byte for
byte and cut where the case says, to a *client under test*, and compares what
the client dispatched with what the WHATWG algorithm says it must.

* :mod:`spec.clients.protocol`: what a client adapter prints, one JSON line per thing seen;
* :mod:`spec.clients.cases`: a case: the bytes, where to pause, the status, the expected events;
* :mod:`spec.clients.replay`: the replay server (an ASGI app served by uvicorn);
* :mod:`spec.clients.runner`: runs the adapter against one case and collects its transcript;
* :mod:`spec.clients.oracle`: the suite's own client, the default, around any sans-IO decoder.
"""
