"""A sans-IO Server-Sent Events core: events in, bytes out, and back.

Nothing here does I/O or imports a web framework: :func:`encode` turns an
:class:`Event` into bytes, :class:`Decoder` turns bytes, as they arrive, into
what a browser's ``EventSource`` would dispatch.
"""

from spec.sse.decoder import Comment, Decoder, Dispatched, MessageEvent, RetryChange
from spec.sse.encoder import encode, encode_comment
from spec.sse.event import Event

__all__ = [
    "Comment",
    "Decoder",
    "Dispatched",
    "Event",
    "MessageEvent",
    "RetryChange",
    "encode",
    "encode_comment",
]
