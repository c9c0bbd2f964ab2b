"""Encoders with one seeded bug each, and the rules each must be caught breaking.

``MUTANTS`` maps a name to ``(framing, rules)``: the app built from the framing
must fail at least those rules. Each is the suite's own encoder with one
change that a real library or a hand-written endpoint has made.
"""

from __future__ import annotations

from collections.abc import Callable

from spec.sse import Event
from spec.sse.encoder import split_lines

Lines = Callable[[str], list[str]]


def _framing(
    *,
    data_lines: Lines = split_lines,
    comment_lines: Lines = split_lines,
    separator: str = ": ",
    empty_id_written: bool = True,
    zero_retry_written: bool = True,
    validate: bool = True,
    terminator: str = "\n",
    leading: str = "",
    charset: str = "utf-8",
) -> Callable[[Event], bytes]:
    def frame(event: Event) -> bytes:
        if validate:
            for name, value in (("event", event.event), ("id", event.id)):
                if value is not None and ("\r" in value or "\n" in value):
                    raise ValueError(f"{name} must not contain CR or LF")
            if event.id is not None and "\0" in event.id:
                raise ValueError("id must not contain NUL")
        lines: list[str] = []
        if event.comment is not None:
            lines += [":" + separator[1:] + line for line in comment_lines(event.comment)]
        if event.id is not None and (event.id or empty_id_written):
            lines.append("id" + separator + event.id)
        if event.event is not None:
            lines.append("event" + separator + event.event)
        if event.retry is not None and (event.retry or zero_retry_written):
            lines.append(f"retry{separator}{event.retry}")
        lines += ["data" + separator + line for line in data_lines(event.data)]
        text = leading + "".join(line + "\n" for line in lines) + terminator
        return text.encode(charset, errors="replace")

    return frame


MUTANTS: dict[str, tuple[Callable[[Event], bytes], set[str]]] = {
    "no blank line after events": (_framing(terminator=""), {"SSE-ENC-01"}),
    "blank line before events instead of after": (
        _framing(terminator="", leading="\n"),
        {"SSE-ENC-01"},
    ),
    "data split only at LF": (
        _framing(data_lines=lambda text: text.split("\n")),
        {"SSE-ENC-02"},
    ),
    "data split with str.splitlines": (
        _framing(data_lines=str.splitlines),
        {"SSE-ENC-03", "SSE-ENC-04"},
    ),
    "no data line for empty data": (
        _framing(data_lines=lambda text: split_lines(text) if text else []),
        {"SSE-ENC-04"},
    ),
    "no space after the colon": (_framing(separator=":"), {"SSE-ENC-05"}),
    "empty id not written": (_framing(empty_id_written=False), {"SSE-ENC-06"}),
    "type and id written unchecked": (_framing(validate=False), {"SSE-ENC-07", "SSE-ENC-08"}),
    "retry 0 not written": (_framing(zero_retry_written=False), {"SSE-ENC-09"}),
    "comment written on one line": (
        _framing(comment_lines=lambda text: [text]),
        {"SSE-ENC-10"},
    ),
    "text encoded as Latin-1": (_framing(charset="latin-1"), {"SSE-ENC-11"}),
}

UNCHECKED_MUTANTS: dict[str, tuple[Callable[[Event], bytes], set[str]]] = {
    "retry written unchecked": (_framing(validate=False), {"SSE-ENC-09"}),
}
"""Like :data:`MUTANTS`, served by a surface that takes the ``events`` JSON unchecked
(``surface_app(framing, check_input=False)``), as an endpoint that builds its events
with ``Event(**member)`` does: ``retry`` -1, 1.5 or ``true`` is written as it is."""
