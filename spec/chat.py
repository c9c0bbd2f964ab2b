"""AI token streams over SSE: the events of the two conventions, built and read (sans-IO).

Two conventions of chat APIs, both vendor conventions (the OpenAI API
reference), not standards, carried in ordinary ``text/event-stream`` framing:

* ``openai``, Chat Completions style: every event is data-only, its data one
  JSON chunk (``{"object": "chat.completion.chunk", "choices": [{"delta":
  {"content": TOKEN}}]}``), and the stream is terminated by one event whose
  data is the literal ``[DONE]`` (not JSON);
* ``typed``, Responses style: every event names its type (``event:
  response.output_text.delta``) and its data is a JSON object whose ``type``
  member repeats it; text arrives in ``delta`` members of
  ``response.output_text.delta`` events, and the stream ends with one terminal
  event (``response.completed``, or ``response.failed`` /
  ``response.incomplete``).

A failure after the 200 status has been sent cannot change the status: it is
told in the stream. ``openai``: a data chunk holding an ``error`` member;
``typed``: an ``error`` event, and/or the terminal ``response.failed``.

The builders make :class:`~spec.sse.Event` values (the one encoder writes
them); the readers take the :class:`~spec.sse.MessageEvent` values a WHATWG
decoder dispatched and say what a client learns from them. No I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from spec.sse import Event, MessageEvent

Style = Literal["openai", "typed"]
STYLES: tuple[Style, ...] = ("openai", "typed")

DONE = "[DONE]"
"""The data of the event that terminates an ``openai`` stream."""
DELTA = "response.output_text.delta"
COMPLETED = "response.completed"
FAILED = "response.failed"
INCOMPLETE = "response.incomplete"
ERROR = "error"
TERMINALS = frozenset({COMPLETED, FAILED, INCOMPLETE})
"""The ``typed`` event types that end a response."""

CHUNK_ID = "chatcmpl-streamspec"
MODEL = "streamspec-fake-model"


# --- Building ---------------------------------------------------------------------


def openai_chunk(token: str, *, finish_reason: str | None = None) -> Event:
    """One ``chat.completion.chunk`` carrying *token* as its delta's ``content``."""
    delta: dict[str, Any] = {"content": token} if token or finish_reason is None else {}
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    chunk = {"id": CHUNK_ID, "object": "chat.completion.chunk", "model": MODEL, "choices": [choice]}
    return Event(data=json.dumps(chunk, ensure_ascii=False))


DONE_EVENT = Event(data=DONE)


def openai_error(message: str) -> Event:
    """The chunk that tells an ``openai`` client the generation failed."""
    return Event(data=json.dumps({"error": {"message": message, "type": "server_error"}}))


def typed(kind: str, **members: Any) -> Event:
    """A ``typed`` event: ``event: KIND`` and data ``{"type": KIND, **members}``."""
    return Event(data=json.dumps({"type": kind, **members}, ensure_ascii=False), event=kind)


def typed_delta(token: str) -> Event:
    return typed(DELTA, item_id="msg_streamspec", output_index=0, content_index=0, delta=token)


def typed_completed(text: str) -> Event:
    return typed(COMPLETED, response={"id": "resp_streamspec", "status": "completed", "text": text})


def typed_failure(message: str) -> list[Event]:
    """What a ``typed`` stream sends when generation fails: ``error``, then ``response.failed``."""
    error = {"code": "server_error", "message": message}
    return [
        typed(ERROR, error=error),
        typed(FAILED, response={"id": "resp_streamspec", "status": "failed", "error": error}),
    ]


# --- Reading ----------------------------------------------------------------------


@dataclass
class Reading:
    """What a client learns from one chat stream's dispatched events.

    Attributes:
        text: the tokens, joined, as the deltas carried them (before any terminator).
        terminators: the events that end the stream, in order: ``[DONE]``
            (``openai``) or a terminal type (``typed``), each as its data or type.
        errors: the events that tell of a failure, by position.
        after_end: the events after the first terminator (``[DONE]`` or a terminal
            type), each as its data (``openai``) or its type (``typed``).
        malformed: events that are not of the convention, each with why.
        positions: the kind of every event in order (``delta``, ``done``,
            ``terminal``, ``error``, ``other``), for messages.
    """

    text: str = ""
    terminators: list[str] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    after_end: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)


def _json_object(data: str) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read_openai(events: Iterable[MessageEvent]) -> Reading:
    """Read data-only chunks up to and past ``[DONE]``."""
    reading = Reading()
    for index, event in enumerate(events):
        ended = bool(reading.terminators)
        if ended:
            reading.after_end.append(event.data[:80])
        if event.data == DONE:
            reading.terminators.append(DONE)
            reading.positions.append("done")
            continue
        chunk = _json_object(event.data)
        if chunk is None:
            reading.malformed.append(f"event {index + 1}: data is not a JSON object")
            reading.positions.append("other")
        elif "error" in chunk:
            reading.errors.append(index)
            reading.positions.append("error")
        else:
            reading.positions.append("delta")
            if not ended:
                reading.text += _chunk_text(chunk)
    return reading


def _chunk_text(chunk: dict[str, Any]) -> str:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return ""
    text = ""
    for choice in choices:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str):
            text += content
    return text


def read_typed(events: Iterable[MessageEvent]) -> Reading:
    """Read typed events up to and past the first terminal one."""
    reading = Reading()
    for index, event in enumerate(events):
        if reading.terminators:
            reading.after_end.append(event.type)
        members = _json_object(event.data)
        if members is None:
            reading.malformed.append(f"event {index + 1} ({event.type}): data is not a JSON object")
        elif members.get("type", event.type) != event.type:
            reading.malformed.append(
                f"event {index + 1}: type {event.type!r}, data's type {members.get('type')!r}"
            )
        if event.type in TERMINALS:
            reading.terminators.append(event.type)
            reading.positions.append("terminal")
            if event.type == FAILED:
                reading.errors.append(index)
        elif event.type == ERROR:
            reading.errors.append(index)
            reading.positions.append("error")
        elif event.type == DELTA:
            reading.positions.append("delta")
            delta = (members or {}).get("delta")
            if isinstance(delta, str) and not reading.terminators:
                reading.text += delta
        else:
            reading.positions.append("other")
    return reading


def read(style: Style, events: Sequence[MessageEvent]) -> Reading:
    """The reading of *events* in *style*."""
    return read_openai(events) if style == "openai" else read_typed(events)
