"""The reference implementation: FastAPI streaming endpoints that pass every spec.

``impl.app:app`` is the default target of the suite. It serves the source
document's three cases done right (a live text log, an SSE stream of JSON
events, a file download) and the conformance surface that lets the suite choose
what a stream carries.
"""
