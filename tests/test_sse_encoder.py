"""The encoder's contract: exact bytes for events, a ValueError naming the field for bad ones."""

from __future__ import annotations

import pytest

from spec.sse import Event, encode, encode_comment


def test_plain_event() -> None:
    assert encode(Event("hello")) == b"data: hello\n\n"


def test_every_field_in_order() -> None:
    event = Event("a\nb", event="add", id="7", retry=1500, comment="note")
    assert encode(event) == b": note\nid: 7\nevent: add\nretry: 1500\ndata: a\ndata: b\n\n"


def test_empty_data_still_writes_a_data_line() -> None:
    assert encode(Event("")) == b"data: \n\n"


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        ("a\r\nb", [b"a", b"b"]),
        ("a\rb", [b"a", b"b"]),
        ("a\nb", [b"a", b"b"]),
        ("a\n", [b"a", b""]),
        ("a\r\n\r\nb", [b"a", b"", b"b"]),
    ],
)
def test_data_split_at_cr_lf_crlf(data: str, lines: list[bytes]) -> None:
    assert encode(Event(data)) == b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]
)
def test_data_not_split_at_other_line_breaks(separator: str) -> None:
    """``str.splitlines`` splits at these; the event stream grammar does not."""
    assert encode(Event(f"a{separator}b")) == f"data: a{separator}b\n\n".encode()


def test_multiline_comment_becomes_comment_lines() -> None:
    assert encode_comment("a\ndata: x") == b": a\n: data: x\n\n"
    assert encode(Event("d", comment="1\r\n2")) == b": 1\n: 2\ndata: d\n\n"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (Event("x", event="a\nb"), "event"),
        (Event("x", event="a\rb"), "event"),
        (Event("x", id="a\nb"), "id"),
        (Event("x", id="a\r\nb"), "id"),
        (Event("x", id="a\0b"), "id"),
        (Event("x", retry=-1), "retry"),
        (Event("x", retry=True), "retry"),
        (Event("x", retry=1.5), "retry"),  # type: ignore[arg-type]
    ],
)
def test_uncarriable_values_are_refused_naming_the_field(event: Event, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} "):
        encode(event)


def test_nul_in_data_and_event_type_is_carried() -> None:
    """NUL is only forbidden in ids (clients ignore such an id); data and types carry it."""
    assert encode(Event("a\0b", event="t\0")) == b"event: t\0\ndata: a\0b\n\n"
