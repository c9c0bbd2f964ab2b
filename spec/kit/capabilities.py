"""``GET /conformance/capabilities``, computed from the factories supplied (never written by hand).

Each member (see :mod:`spec.capabilities`) is true exactly when the kit serves
what it names with what was supplied:

* ``sse``, ``feed``, ``stop``: an SSE factory (the feed is streamed by it, and
  the 204 stop only means something to a target that streams SSE);
* ``comments``, ``idle``: the SSE factory's ``comments`` and ``keepalive``;
* ``text``, ``log``, ``bytes``: a Stream factory whose ``kinds`` hold them;
* ``endless`` and ``observe``: ``endless`` in the Stream factory's kinds, or
  an SSE factory (one event a line); the observation records belong to the
  endless producers;
* ``files``: a Download factory;
* ``gates``: any gated stream (SSE, text, log or bytes) is served;
* ``headers``: the SSE or text stream is served, and every one served sends
  the custom headers (its holder's ``headers``).
"""

from __future__ import annotations

from spec.kit.factories import Factories


def capabilities(supplied: Factories) -> dict[str, bool]:
    """The declaration of a kit built with *supplied*."""
    sse = supplied.sse
    text = supplied.streams("text")
    endless = supplied.streams("endless") or sse is not None
    gated = sse is not None or any(supplied.streams(kind) for kind in ("text", "log", "bytes"))
    with_headers = [holder.headers for holder in (sse,) if holder is not None]
    if text and supplied.stream is not None:
        with_headers.append(supplied.stream.headers)
    return {
        "sse": sse is not None,
        "text": text,
        "comments": sse is not None and sse.comments,
        "files": supplied.download is not None,
        "endless": endless,
        "feed": sse is not None,
        "bytes": supplied.streams("bytes"),
        "log": supplied.streams("log"),
        "idle": sse is not None and sse.keepalive,
        "observe": endless,
        "gates": gated,
        "headers": bool(with_headers) and all(with_headers),
        "stop": sse is not None,
    }
