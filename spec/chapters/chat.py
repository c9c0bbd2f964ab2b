"""AI token streams: a model's answer over POST, token by token, ended on purpose.

A chat API streams the model's answer as it is generated, the "typing
effect" of a chat window. The prompt is a request body, so the request is a
`POST`; a browser's `EventSource` cannot send one (its constructor only ever
makes a `GET` without a body: [WHATWG HTML, the `EventSource`
constructor](https://html.spec.whatwg.org/multipage/server-sent-events.html#dom-eventsource)),
so a page reads the stream with [`fetch()`](https://fetch.spec.whatwg.org/#fetch-method)
and the response body, a [`ReadableStream`](https://streams.spec.whatwg.org/#rs-class)
(WHATWG Fetch, WHATWG Streams), cutting the bytes into events itself. The
framing is still Server-Sent Events (`text/event-stream`, [WHATWG HTML's
parsing rules](https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream)):
only the request and the reader change.

What the events mean is a *vendor convention*, not a standard: the OpenAI
API reference ([Chat Completions' `stream`](https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream),
[the Responses API's streaming events](https://platform.openai.com/docs/api-reference/responses-streaming))
defines the two shapes that many servers and client libraries copy; this
chapter holds a target that declares the capability `chat` to both, as they
are written there.

* **Chat Completions style** (`openai`): data-only events, each one JSON
  chunk (`{"object": "chat.completion.chunk", "choices": [{"delta":
  {"content": "Hel"}}]}`), and the stream is terminated by one event whose
  data is the literal `[DONE]` (not JSON). The reference's description of
  `stream` has read "Tokens will be sent as data-only server-sent events as
  they become available, with the stream terminated by a `data: [DONE]`
  message" (client libraries generated from it, async-openai's among them,
  quote it). A client stops at `[DONE]`: it is how it tells a finished answer
  from a cut one.
* **Responses style** (`typed`): each event names its type (`event:
  response.output_text.delta`, its data a JSON object whose `type` repeats
  it), and the stream ends with one terminal event: `response.completed`
  (or `response.failed`, `response.incomplete`).

Three things a chat stream must get right that a plain SSE stream need not:

* an error *after* the 200 status has been sent cannot become a 5xx; it is
  told in the stream (an `openai` chunk with an `error` member; a `typed`
  `error` event and/or `response.failed`), and then the stream ends, with
  no `[DONE]` and no `response.completed`, which would call a cut answer
  complete;
* a model may think for seconds before its first token: the status and
  headers go out at once and keep-alive comments flow meanwhile (HTML's
  authoring notes: a comment every 15 seconds or so keeps proxies from
  dropping the connection);
* generation costs money and a GPU: when the client leaves (a closed tab,
  a "stop" button that aborts the fetch), generation stops and the model's
  cleanup runs, during the tokens or while it thinks. These are the CANCEL
  chapter's observations (`started`, tokens produced, `cleanup` at
  `GET /conformance/observe`), held for a `POST` stream.

A target serves `POST /conformance/chat` (the chapter "Conformance surface")
and declares the capability `chat`; a target that does not gets these rules
*not applicable*. The suite's reader of both conventions is `spec/chat.py`
(sans-IO). The reference streams them with `impl/chat.py`, and its demo
(`POST /chat`, a fake model that downloads nothing, and the page
`GET /chat/page`, which reads it with `fetch` and a `ReadableStream`) is
tested in Chromium.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from spec.capabilities import requires
from spec.chapters.cancel import new_id, observe_until
from spec.chat import STYLES, Reading, Style, read, read_openai
from spec.patience import guarded, patience, within
from spec.rules import MUST, SHOULD, Chapter, Source, expect, violation
from spec.sources import ASGI_DISCONNECT, SSE_AUTHORING, SSE_PARSING
from spec.sse import Comment, Decoder, MessageEvent
from spec.stepping import open_stepped
from spec.streams import Fetched, fetch
from spec.surface import CHAT_PATH
from spec.targets.client import StreamClient, StreamedResponse

chapter = Chapter(__name__)
pytestmark = requires("chat")

_OPENAI = "https://platform.openai.com/docs/api-reference"
FETCH_BODY = Source(
    "WHATWG Fetch",
    "Body mixin: body (a ReadableStream)",
    "https://fetch.spec.whatwg.org/#dom-body-body",
)
OPENAI_DONE = Source(
    "OpenAI API reference (a vendor convention, not a standard)",
    "Chat Completions: create, the stream parameter",
    f"{_OPENAI}/chat/create#chat-create-stream",
)
OPENAI_EVENTS = Source(
    "OpenAI API reference (a vendor convention, not a standard)",
    "Responses: streaming events (response.output_text.delta, response.completed, error)",
    f"{_OPENAI}/responses-streaming",
)

TOKENS = ["Hel", "lo", ",", " 世界", " 🎉", "\n", "[DONE]", ' "quoted"', "", " data: x\n\n", "."]
"""Tokens with a newline, a blank line and ``data:`` inside, the literal ``[DONE]`` as text,
multi-byte characters and an empty token: the framing must carry each unchanged."""

LIMIT = 50_000
"""Tokens a stream would make if nothing stopped it (``tokens`` of one, ``repeat``)."""

JSON_HEADERS = [("content-type", "application/json"), ("accept", "text/event-stream")]

CHAT_POST = chapter.rule(
    "CHAT-POST-01",
    MUST,
    "A chat stream answers a POST whose body is JSON with status 200 and the Content-Type"
    " text/event-stream.",
    FETCH_BODY,
    why="EventSource can only GET: a prompt is a request body, which a page sends with fetch"
    " and whose answer it reads from the response's ReadableStream.",
)
CHAT_FRAME = chapter.rule(
    "CHAT-FRAME-01",
    MUST,
    "Each event of a chat stream is one of its convention's, and the deltas carry the model's"
    " tokens unchanged and in order (a newline, a blank line, data: or [DONE] inside a token"
    " included).",
    SSE_PARSING,
    why="The framing is SSE's; a token written as raw data lets its newlines end the event,"
    " and its [DONE] end the answer.",
)
CHAT_DONE = chapter.rule(
    "CHAT-DONE-01",
    MUST,
    "An OpenAI-style stream ends with exactly one event whose data is [DONE], after the last"
    " chunk, and nothing follows it.",
    OPENAI_DONE,
    why="[DONE] is a vendor's convention, which OpenAI-compatible clients stop at: none leaves"
    " a finished answer looking cut, and a chunk after it is lost.",
)
CHAT_TYPED = chapter.rule(
    "CHAT-TYPED-01",
    MUST,
    "A typed-event stream gives each event a type that its data's type repeats, and ends with"
    " exactly one terminal event (response.completed) after its last delta, nothing after it.",
    OPENAI_EVENTS,
    why="The terminal event is how a client of the Responses convention knows the answer is"
    " whole; a second one, or a delta after it, is read by no client.",
)
CHAT_ERROR = chapter.rule(
    "CHAT-ERR-01",
    MUST,
    "When generation fails after the 200 status was sent, the tokens made so far arrive, then an"
    " error event, then the stream ends: no [DONE], no response.completed, no further token.",
    OPENAI_EVENTS,
    why="The status can no longer say it: a stream that just stops, or ends as if complete,"
    " hands the user a cut answer as a whole one.",
)
CHAT_EACH = chapter.rule(
    "CHAT-INC-01",
    MUST,
    "Each token reaches the client before the model makes the next one.",
    OPENAI_DONE,
    why="Streaming is for the typing effect: tokens held back and sent together make the"
    " reader wait as long as a whole answer would.",
)
CHAT_WAIT = chapter.rule(
    "CHAT-WAIT-01",
    SHOULD,
    "While the model thinks before its first token, the status and headers have been sent and"
    " keep-alive comments flow at the interval asked.",
    SSE_AUTHORING,
)
CHAT_CANCEL = chapter.rule(
    "CHAT-CANCEL-01",
    MUST,
    "When the client of a chat stream disconnects, generation stops and the model's cleanup"
    " runs, whether it leaves during the tokens or while the model thinks.",
    ASGI_DISCONNECT,
    why="Every token a departed client never reads is compute spent for no one.",
)


def chat_body(tokens: list[str], style: Style, **extra: Any) -> bytes:
    """The JSON body of ``POST /conformance/chat``."""
    return json.dumps({"tokens": tokens, "style": style, **extra}).encode()


async def post_chat(client: StreamClient, body: bytes) -> Fetched:
    return await fetch(client, "POST", CHAT_PATH, headers=JSON_HEADERS, body=body)


def events_of(fetched: Fetched) -> list[MessageEvent]:
    """The events a client dispatches from *fetched*'s body (an unfinished last one is not)."""
    decoder = Decoder()
    items = [*decoder.feed(fetched.body), *decoder.close()]
    return [item for item in items if isinstance(item, MessageEvent)]


def expect_stream(fetched: Fetched, what: str) -> None:
    expect(fetched.status, 200, f"the status of {what}")
    media = (fetched.header("content-type") or "").split(";")[0].strip().lower()
    expect(media, "text/event-stream", f"the Content-Type of {what}")


def shown(reading: Reading) -> str:
    return " ".join(reading.positions) or "no events"


@CHAT_POST.check
@pytest.mark.parametrize("style", STYLES)
async def check_a_post_is_answered_with_an_event_stream(
    stream_client: StreamClient, style: Style
) -> None:
    """A JSON body POSTed: 200 and ``text/event-stream``."""
    fetched = await post_chat(stream_client, chat_body(TOKENS, style))
    expect_stream(fetched, f"the {style} chat stream")


@CHAT_FRAME.check
@pytest.mark.parametrize("style", STYLES)
async def check_tokens_arrive_unchanged(stream_client: StreamClient, style: Style) -> None:
    """The chapter's tricky tokens come back as the convention's deltas, joining to them."""
    fetched = await post_chat(stream_client, chat_body(TOKENS, style))
    expect_stream(fetched, f"the {style} chat stream")
    reading = read(style, events_of(fetched))
    if reading.malformed:
        violation(
            f"the events of the {style} chat stream", "events of the convention", reading.malformed
        )
    expect(reading.text, "".join(TOKENS), f"the text the {style} stream's deltas carry")


@CHAT_DONE.check
async def check_openai_stream_ends_with_one_done(stream_client: StreamClient) -> None:
    """The chunks, then one ``data: [DONE]``, then nothing."""
    fetched = await post_chat(stream_client, chat_body(TOKENS, "openai"))
    expect_stream(fetched, "the openai chat stream")
    reading = read("openai", events_of(fetched))
    if reading.terminators != ["[DONE]"] or reading.after_end:
        violation(
            "the end of the openai chat stream",
            "chunks, then exactly one [DONE], then nothing",
            f"{len(reading.terminators)} [DONE], events in order: {shown(reading)}",
        )


@CHAT_TYPED.check
async def check_typed_stream_ends_with_one_terminal_event(stream_client: StreamClient) -> None:
    """Typed deltas, then one ``response.completed``, then nothing; each type matches its data."""
    fetched = await post_chat(stream_client, chat_body(TOKENS, "typed"))
    expect_stream(fetched, "the typed chat stream")
    reading = read("typed", events_of(fetched))
    if reading.malformed:
        violation(
            "the events of the typed chat stream", "types their data repeat", reading.malformed
        )
    if reading.terminators != ["response.completed"] or reading.after_end:
        violation(
            "the end of the typed chat stream",
            "deltas, then exactly one response.completed, then nothing",
            f"terminal events {reading.terminators}, events in order: {shown(reading)}",
        )


@CHAT_ERROR.check
@pytest.mark.parametrize("style", STYLES)
async def check_failure_is_an_event_then_the_end(stream_client: StreamClient, style: Style) -> None:
    """The model fails after three tokens: those three, an error event, and nothing else."""
    fetched = await post_chat(stream_client, chat_body(TOKENS, style, fail_after=3))
    expect_stream(fetched, f"the failing {style} chat stream")
    reading = read(style, events_of(fetched))
    expect(reading.text, "".join(TOKENS[:3]), f"the text made before the failure ({style})")
    if not reading.errors:
        ending = "aborted" if fetched.aborted else "ended cleanly"
        violation(
            f"the {style} stream after the model failed",
            "an error event",
            f"none (events in order: {shown(reading)}; the body {ending})",
        )
    first_error = reading.errors[0]
    after = reading.positions[first_error + 1 :]
    allowed_after = (
        ["terminal"] if style == "typed" and reading.positions[first_error] == "error" else []
    )
    if (
        after not in ([], allowed_after)
        or "[DONE]" in reading.terminators
        or ("response.completed" in reading.terminators)
    ):
        violation(
            f"what follows the error event of the {style} stream",
            "nothing (typed: at most its response.failed)",
            f"events in order: {shown(reading)}, terminal {reading.terminators}",
        )


@CHAT_EACH.check
async def check_each_token_arrives_before_the_next(stream_client: StreamClient) -> None:
    """With the model held at a gate before each token, the tokens made so far have arrived."""
    tokens = ["first", " 例子\n", " [DONE]", " last"]
    async with open_stepped(stream_client, "chat", tokens) as stream:
        for number in range(1, len(tokens) + 1):
            await stream.go_for(number)
            want = "".join(tokens[:number])

            def done(decoded: bytes, want: str = want) -> bool:
                decoder = Decoder()
                events = [i for i in decoder.feed(decoded) if isinstance(i, MessageEvent)]
                return read_openai(events).text.startswith(want)

            await stream.read_until(done, f"token {number} of {len(tokens)}")


async def _first_comment(response: StreamedResponse) -> bool:
    """Whether a comment arrives before the body ends (events before it, such as a chunk
    with the role and no content, are allowed: the model's first token is minutes away)."""
    decoder = Decoder()
    async for chunk in response.chunks():
        if any(isinstance(item, Comment) for item in decoder.feed(chunk)):
            return True
    return False


def _thinking(style: Style, **extra: Any) -> bytes:
    return chat_body(["late"], style, delay_ms=600_000, **extra)


@CHAT_WAIT.check
async def check_comments_flow_while_the_model_thinks(stream_client: StreamClient) -> None:
    """A model that thinks for ten minutes, keep-alive 50 ms: the headers, then a comment.

    The headers are waited for by the client's hang guard; the comment within
    a load-aware window a hundred times the interval. The client then leaves.
    """
    async with stream_client.stream(
        "POST", CHAT_PATH, headers=JSON_HEADERS, body=_thinking("openai", keepalive=0.05)
    ) as response:
        expect(response.status, 200, "the status of a chat stream whose model thinks")
        waited = await within(patience(), lambda: _first_comment(response))
    if not waited.value:
        seen = (
            "the stream ended, or sent a token first"
            if waited.arrived
            else (f"none in {waited.seconds:.1f} s")
        )
        violation("a chat stream while its model thinks (keep-alive 50 ms)", "a comment", seen)


@requires("chat", "observe")
@CHAT_CANCEL.check
@pytest.mark.parametrize("style", STYLES)
async def check_generation_stops_when_the_client_leaves(
    stream_client: StreamClient, style: Style
) -> None:
    """Read a few deltas of a 50,000-token answer, leave, and wait for the model's cleanup."""
    stream_id = new_id()
    body = chat_body(["tok "], style, repeat=LIMIT, id=stream_id)
    async with stream_client.stream("POST", CHAT_PATH, headers=JSON_HEADERS, body=body) as r:
        expect(r.status, 200, "the status of the chat stream")
        decoder = Decoder()
        seen = 0
        with guarded("the first three events of the chat stream", 10):
            async for chunk in r.chunks():
                seen += sum(isinstance(item, MessageEvent) for item in decoder.feed(chunk))
                if seen >= 3:
                    break
    facts = await observe_until(stream_client, stream_id, "cleanup")
    expect(facts.get("cleanup"), True, f"the model's cleanup ran after the client left ({style})")
    if facts.get("produced", 0) >= LIMIT:
        violation(
            f"tokens the model made after the client of the {style} stream left",
            f"generation stopped well before its {LIMIT} tokens",
            f"all {facts.get('produced')} were made",
        )


@requires("chat", "observe")
@CHAT_CANCEL.check
async def check_thinking_stops_when_the_client_leaves(stream_client: StreamClient) -> None:
    """The client leaves while the model thinks (after its headers): the model's cleanup runs."""
    stream_id = new_id()
    body = _thinking("openai", id=stream_id, keepalive=0)
    async with stream_client.stream("POST", CHAT_PATH, headers=JSON_HEADERS, body=body) as r:
        expect(r.status, 200, "the status of a chat stream whose model thinks")
        facts = await observe_until(stream_client, stream_id, "started")
        expect(facts.get("started"), True, "the model started thinking")
    facts = await observe_until(stream_client, stream_id, "cleanup")
    expect(facts.get("cleanup"), True, "the model's cleanup ran after the client left it thinking")
