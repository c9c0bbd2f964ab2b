"""The reference's chat streams: a model's tokens framed as a chat API frames them, over SSE.

:func:`framed` turns an async generator of tokens into the events of one
convention (:mod:`spec.chat`): ``openai`` chunks then one ``data: [DONE]``,
or ``typed`` deltas then one ``response.completed``. A model that raises
after the response has started cannot change the 200 status: the error is
sent as the convention's error event(s), and the stream ends there, with no
``[DONE]`` and no ``response.completed`` (which would call a cut answer
complete). The events are written by :class:`~impl.sse.EventStreamResponse`,
whose keep-alive comments flow while the model thinks, and which closes the
token generator (running its ``finally``) when the client leaves.

:func:`fake_model` is the demo's model: nothing is downloaded; its tokens are
a deterministic function of the prompt, paced by the settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator

import anyio

from spec.chat import (
    DONE_EVENT,
    Style,
    openai_chunk,
    openai_error,
    typed_completed,
    typed_delta,
    typed_failure,
)
from spec.sse import Event

logger = logging.getLogger(__name__)

FAILURE_MESSAGE = "the model failed while generating"
"""What a client is told of a failure (its details stay in the server's log)."""


async def framed(tokens: AsyncIterator[str], style: Style) -> AsyncGenerator[Event, None]:
    """The events of *tokens* in *style*; closing the result closes *tokens* at once."""
    text = ""
    try:
        try:
            async for token in tokens:
                text += token
                yield openai_chunk(token) if style == "openai" else typed_delta(token)
        except Exception:
            logger.exception("chat generation failed after the response started")
            if style == "openai":
                yield openai_error(FAILURE_MESSAGE)
            else:
                for event in typed_failure(FAILURE_MESSAGE):
                    yield event
            return
        if style == "openai":
            yield openai_chunk("", finish_reason="stop")
            yield DONE_EVENT
        else:
            yield typed_completed(text)
    finally:
        aclose = getattr(tokens, "aclose", None)
        if aclose is not None:
            await aclose()


_ANSWER = (
    "Streaming sends each token as soon as the model makes it, so the reader sees the "
    "answer grow instead of waiting for the whole of it."
)


async def fake_model(prompt: str, *, thinking: float, interval: float) -> AsyncIterator[str]:
    """Tokens of a canned answer that quotes *prompt*: *thinking* seconds, then one word
    every *interval* seconds. Deterministic: :func:`answer_tokens` gives the same tokens."""
    if thinking:
        await anyio.sleep(thinking)
    for index, token in enumerate(answer_tokens(prompt)):
        if index and interval:
            await anyio.sleep(interval)
        yield token


def answer_tokens(prompt: str) -> list[str]:
    """The fake model's tokens for *prompt* (words, each with its leading space)."""
    words = f"You asked: {prompt.strip()[:200]}. {_ANSWER}".split(" ")
    return [words[0], *(" " + word for word in words[1:])]
