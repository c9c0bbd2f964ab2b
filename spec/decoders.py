"""Load the SSE decoder that the parsing chapter checks (by default, the oracle).

``--decoder=module:attribute`` names a zero-argument callable that returns an
object with the :class:`~spec.sse.Decoder` interface: ``feed(bytes)`` and
``close()`` each return a list of :class:`~spec.sse.MessageEvent`,
:class:`~spec.sse.Comment` and :class:`~spec.sse.RetryChange`, and the
attribute ``last_event_id``. An adapter around a client library (httpx-sse,
a JavaScript parser run in a subprocess) lets the chapter validate it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from spec.sse import Dispatched

DEFAULT_DECODER = "spec.sse:Decoder"


class SseDecoder(Protocol):
    """What the parsing chapter needs of a decoder."""

    last_event_id: str

    def feed(self, chunk: bytes) -> list[Dispatched]: ...

    def close(self) -> list[Dispatched]: ...


DecoderFactory = Callable[[], SseDecoder]


def load_decoder(name: str) -> DecoderFactory:
    """Import the decoder factory named ``module:attribute``."""
    module_name, _, attribute = name.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    if not callable(factory):
        raise TypeError(f"--decoder={name!r} is not callable")
    return factory  # type: ignore[no-any-return]
