"""Media types as a Content-Type header gives them (RFC 9110, 8.3.1): the essence and parameters.

One reading for every chapter and for the suite's own SSE client, so that a
server and a client are held to the same comparison: the essence
(``type/subtype``) lower-cased and without parameters, the parameter names
lower-cased, quoted values unquoted.
"""

from __future__ import annotations

import email.message

EVENT_STREAM = "text/event-stream"
"""The media type of a Server-Sent Events stream."""


def essence(content_type: str | None) -> str:
    """``type/subtype`` of a Content-Type value, lower-cased; ``""`` when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parameters(content_type: str | None) -> dict[str, str]:
    """The parameters of a Content-Type value, names lower-cased (``charset`` and the like)."""
    message = email.message.Message()
    message["content-type"] = content_type or ""
    return {name.lower(): value for name, value in message.get_params(failobj=[])[1:]}
