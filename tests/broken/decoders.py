"""Decoders with one seeded bug each, and the rules each must be caught breaking.

Each is the oracle (:class:`spec.sse.Decoder`) with one step of the WHATWG
algorithm done the way some client library does it. ``MUTANTS`` maps a
name to ``(factory, rules)``.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from spec.sse import Decoder, Dispatched, MessageEvent


class Latin1(Decoder):
    def __init__(self) -> None:
        super().__init__()
        self._utf8 = codecs.getincrementaldecoder("latin-1")()


class KeepsBom(Decoder):
    def _feed_text(self, text: str) -> list[Dispatched]:
        self._at_stream_start = False
        return super()._feed_text(text)


class DropsEveryBom(Decoder):
    def _feed_text(self, text: str) -> list[Dispatched]:
        return super()._feed_text(text.replace("\ufeff", ""))


class _SplitsAt(Decoder):
    """Splits lines with a function of a whole buffer (no CR/LF memory across reads)."""

    def split(self, text: str) -> list[str]:
        raise NotImplementedError

    def _complete_lines(self, text: str) -> list[str]:
        pieces = self.split(self._line + text)
        self._line = pieces.pop()
        return pieces


class Splitlines(_SplitsAt):
    def split(self, text: str) -> list[str]:
        lines = text.splitlines(keepends=True)
        rest = lines.pop() if lines and lines[-1].splitlines() == [lines[-1]] else ""
        return [line.splitlines()[0] for line in lines] + [rest]


class LfOnly(_SplitsAt):
    def split(self, text: str) -> list[str]:
        return text.split("\n")


class CrlfOnly(_SplitsAt):
    def split(self, text: str) -> list[str]:
        return text.split("\r\n")


class WaitsAfterCr(Decoder):
    """Holds a trailing CR back until it sees whether an LF follows."""

    _held = ""

    def _feed_text(self, text: str) -> list[Dispatched]:
        text, self._held = self._held + text, ""
        if text.endswith("\r"):
            text, self._held = text[:-1], "\r"
        return super()._feed_text(text)

    def close(self) -> list[Dispatched]:
        out = super()._feed_text(self._held) if self._held else []
        return out + super().close()


class ForgetsCrAcrossReads(Decoder):
    def _complete_lines(self, text: str) -> list[str]:
        self._after_cr = False
        return super()._complete_lines(text)


class DispatchesAtClose(Decoder):
    """Reads the whole body before parsing it, as a non-streaming client does."""

    def __init__(self) -> None:
        super().__init__()
        self._body = b""

    def feed(self, chunk: bytes) -> list[Dispatched]:
        self._body += chunk
        return []

    def close(self) -> list[Dispatched]:
        return super().feed(self._body) + super().close()


class ParsesComments(Decoder):
    def _process_line(self, line: str, out: list[Dispatched]) -> None:
        super()._process_line(line[1:] if line.startswith(":") else line, out)


class CommentEndsEvent(Decoder):
    """Takes a comment for a blank line, as if a keep-alive comment ended the event."""

    def _process_line(self, line: str, out: list[Dispatched]) -> None:
        super()._process_line("" if line.startswith(":") else line, out)


class DispatchesEmptyData(Decoder):
    def _dispatch(self, out: list[Dispatched]) -> None:
        if self._data == "":
            self._data = "\n"
        super()._dispatch(out)


class _Fields(Decoder):
    """Replaces the line-to-field split."""

    def field(self, line: str) -> tuple[str, str] | None:
        raise NotImplementedError

    def _process_line(self, line: str, out: list[Dispatched]) -> None:
        if line == "" or line.startswith(":"):
            super()._process_line(line, out)
            return
        split = self.field(line)
        if split is not None:
            self._process_field(*split, out)


class KeepsSpace(_Fields):
    def field(self, line: str) -> tuple[str, str] | None:
        name, _, value = line.partition(":")
        return name, value


class StripsAllSpaces(_Fields):
    def field(self, line: str) -> tuple[str, str] | None:
        name, _, value = line.partition(":")
        return name, value.lstrip(" ")


class SplitsAtLastColon(_Fields):
    def field(self, line: str) -> tuple[str, str] | None:
        name, _, value = line.rpartition(":") if ":" in line else (line, "", "")
        return name, value.removeprefix(" ")


class IgnoresBareLines(_Fields):
    def field(self, line: str) -> tuple[str, str] | None:
        if ":" not in line:
            return None
        name, _, value = line.partition(":")
        return name, value.removeprefix(" ")


class CaseInsensitiveFields(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        super()._process_field(field.strip().lower(), value, out)


class _Dispatch(Decoder):
    """Replaces step 3-6 of dispatching."""

    def _dispatch(self, out: list[Dispatched]) -> None:
        before = len(out)
        event_type = self._event_type
        super()._dispatch(out)
        if len(out) > before and isinstance(out[-1], MessageEvent):
            out[-1] = self.adjust(out[-1], event_type)

    def adjust(self, event: MessageEvent, event_type: str) -> MessageEvent:
        raise NotImplementedError


class JoinsWithoutLf(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        if field == "data":
            self._data += value
            return
        super()._process_field(field, value, out)

    def _dispatch(self, out: list[Dispatched]) -> None:
        self._data += "\n" if self._data else ""
        super()._dispatch(out)


class StripsAllTrailingLfs(_Dispatch):
    def adjust(self, event: MessageEvent, event_type: str) -> MessageEvent:
        return MessageEvent(event.type, event.data.rstrip("\n"), event.last_event_id)


class EmptyTypeIsEmpty(_Dispatch):
    def adjust(self, event: MessageEvent, event_type: str) -> MessageEvent:
        return MessageEvent(event_type, event.data, event.last_event_id)


class TypeCarriesOver(Decoder):
    def _dispatch(self, out: list[Dispatched]) -> None:
        kept = self._event_type
        super()._dispatch(out)
        self._event_type = kept


class FirstEventFieldWins(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        if field == "event" and self._event_type:
            return
        super()._process_field(field, value, out)


class AcceptsNulId(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        if field == "id":
            self._last_event_id_buffer = value
            return
        super()._process_field(field, value, out)


class IdPerEvent(Decoder):
    """Forgets the id after each dispatch, as if ids belonged to one event."""

    def _dispatch(self, out: list[Dispatched]) -> None:
        super()._dispatch(out)
        self._last_event_id_buffer = ""


class EmptyIdIgnored(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        if field == "id" and value == "":
            return
        super()._process_field(field, value, out)


class IdTakenWhenRead(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        super()._process_field(field, value, out)
        if field == "id" and "\0" not in value:
            self.last_event_id = value


class IdTakenOnlyWithData(Decoder):
    def _dispatch(self, out: list[Dispatched]) -> None:
        kept = self.last_event_id
        super()._dispatch(out)
        if not out or not isinstance(out[-1], MessageEvent):
            self.last_event_id = kept


class RetryParsedWithInt(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        if field == "retry":
            try:
                value = str(int(value))
            except ValueError:
                return
        super()._process_field(field, value, out)


class IgnoresRetry(Decoder):
    """Never takes a retry value, as a client that cannot reconnect has no use for one."""

    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        if field != "retry":
            super()._process_field(field, value, out)


class RetryZeroIgnored(Decoder):
    def _process_field(self, field: str, value: str, out: list[Dispatched]) -> None:
        if field == "retry" and value.strip("0") == "":
            return
        super()._process_field(field, value, out)


class DispatchesIncompleteEvent(Decoder):
    def close(self) -> list[Dispatched]:
        out = super()._feed_text(self._utf8.decode(b"", final=True) + "\n\n")
        return out + super().close()


Factory = Callable[[], Decoder]

MUTANTS: dict[str, tuple[Factory, set[str]]] = {
    "decodes Latin-1": (Latin1, {"SSE-PARSE-01"}),
    "keeps the leading BOM": (KeepsBom, {"SSE-PARSE-02"}),
    "drops every BOM": (DropsEveryBom, {"SSE-PARSE-02"}),
    "splits lines with str.splitlines": (Splitlines, {"SSE-PARSE-03"}),
    "ends lines at LF only": (LfOnly, {"SSE-PARSE-03"}),
    "ends lines at CRLF only": (CrlfOnly, {"SSE-PARSE-03", "SSE-PARSE-04"}),
    "waits for the byte after a CR": (WaitsAfterCr, {"SSE-PARSE-03"}),
    "forgets a CR across reads": (ForgetsCrAcrossReads, {"SSE-PARSE-03"}),
    "parses only the whole body": (DispatchesAtClose, {"SSE-PARSE-03", "SSE-PARSE-04"}),
    "parses comment lines as fields": (ParsesComments, {"SSE-PARSE-05"}),
    "ends the event at a comment": (CommentEndsEvent, {"SSE-PARSE-05"}),
    "dispatches events without data": (DispatchesEmptyData, {"SSE-PARSE-05", "SSE-PARSE-09"}),
    "keeps the space after the colon": (KeepsSpace, {"SSE-PARSE-06"}),
    "strips every leading space": (StripsAllSpaces, {"SSE-PARSE-06"}),
    "splits at the last colon": (SplitsAtLastColon, {"SSE-PARSE-06"}),
    "ignores lines without a colon": (IgnoresBareLines, {"SSE-PARSE-06"}),
    "matches field names loosely": (CaseInsensitiveFields, {"SSE-PARSE-07"}),
    "joins data lines without LF": (JoinsWithoutLf, {"SSE-PARSE-08"}),
    "strips every trailing LF": (StripsAllTrailingLfs, {"SSE-PARSE-08"}),
    "leaves an empty type empty": (EmptyTypeIsEmpty, {"SSE-PARSE-10"}),
    "carries the type over": (TypeCarriesOver, {"SSE-PARSE-09", "SSE-PARSE-10"}),
    "keeps the first event field": (FirstEventFieldWins, {"SSE-PARSE-10"}),
    "accepts an id with NUL": (AcceptsNulId, {"SSE-PARSE-11"}),
    "forgets the id after each event": (IdPerEvent, {"SSE-PARSE-12"}),
    "ignores an empty id": (EmptyIdIgnored, {"SSE-PARSE-12"}),
    "takes the id when read": (IdTakenWhenRead, {"SSE-PARSE-12"}),
    "takes the id only with data": (IdTakenOnlyWithData, {"SSE-PARSE-12"}),
    "parses retry with int()": (RetryParsedWithInt, {"SSE-PARSE-13"}),
    "ignores every retry": (IgnoresRetry, {"SSE-PARSE-13"}),
    "ignores retry 0": (RetryZeroIgnored, {"SSE-PARSE-13"}),
    "dispatches an incomplete event": (DispatchesIncompleteEvent, {"SSE-PARSE-14"}),
}
