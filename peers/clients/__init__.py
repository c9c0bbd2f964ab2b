"""Adapters of SSE clients for the client chapter (``SSE-CLIENT``), one module each.

Each is a command, ``python -m peers.clients.<name> URL``, that reads one
stream with its client and prints what the client did in the protocol of
:mod:`spec.clients.protocol`. An adapter reports; it never adds a check of its
own, so what the matrix shows is the library's behaviour.
"""
