"""The pure parts of the reference download, each against a model or the suite's own parser."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from impl.disposition import content_disposition
from impl.ranges import MAX_RANGES, Ignore, Ranges, Unsatisfiable, parse_range
from impl.safe_path import open_inside
from impl.validators import Validators, not_modified, range_allowed
from spec.disposition import parse

_SPECS = st.one_of(
    st.tuples(st.integers(0, 120), st.integers(0, 200)).map(
        lambda t: (f"{t[0]}-{t[0] + t[1]}", set(range(t[0], t[0] + t[1] + 1)))
    ),
    st.integers(0, 120).map(lambda first: (f"{first}-", set(range(first, 100)))),
    st.integers(1, 150).map(lambda n: (f"-{n}", set(range(max(100 - n, 0), 100)))),
)


@given(st.lists(_SPECS, min_size=1, max_size=MAX_RANGES))
def test_ranges_select_what_a_model_selects(specs: list[tuple[str, set[int]]]) -> None:
    """Over a 100-byte file: the spans are sorted, disjoint, and cover exactly the union asked."""
    header = "bytes=" + ", ".join(text for text, _ in specs)
    wanted = set().union(*(offsets for _, offsets in specs)) & set(range(100))
    decision = parse_range(header, 100)
    if not wanted:
        assert decision == Unsatisfiable()
        return
    assert isinstance(decision, Ranges)
    got: set[int] = set()
    previous_last = -2
    for first, last in decision.spans:
        assert previous_last + 1 < first <= last < 100
        got |= set(range(first, last + 1))
        previous_last = last
    assert got == wanted


def test_malformed_inverted_and_too_many_ranges_are_ignored() -> None:
    for header in ("bytes=9-3", "bytes=0-1,5-2", "bytes=x", "pages=1-2", "bytes=", "bytes=0-1;"):
        assert parse_range(header, 100) == Ignore(), header
    assert parse_range("bytes=" + ",".join(["0-0"] * (MAX_RANGES + 1)), 100) == Ignore()
    assert parse_range("bytes=-5", 0) == Ignore(), "a suffix of an empty file selects nothing"
    assert parse_range("bytes=0-", 0) == Unsatisfiable()


@given(st.text(min_size=1))
@example("résumé ✓.txt")
@example('a"b\\c\r\nSet-Cookie: x')
def test_any_name_round_trips_through_a_strict_parser(name: str) -> None:
    value = content_disposition(name)
    assert all(0x20 <= ord(c) < 0x7F for c in value)
    parsed = parse(value)
    assert parsed.type == "attachment"
    assert parsed.filename() == name


def test_open_inside_refuses_what_is_not_a_regular_file_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "dir").mkdir(parents=True)
    (root / "ok.txt").write_bytes(b"ok")
    (tmp_path / "secret").write_bytes(b"secret")
    (root / "out").symlink_to(tmp_path / "secret")
    (root / "in").symlink_to("ok.txt")
    os.mkfifo(root / "fifo")
    for name in ("dir", "out", "fifo", "../secret", "./ok.txt", "ok.txt/", "/ok.txt", "ok\\x"):
        assert open_inside(root, name) is None, name
    for name in ("ok.txt", "in"):
        opened = open_inside(root, name)
        assert opened is not None
        assert os.pread(opened.fd, 10, 0) == b"ok"
        os.close(opened.fd)


def test_conditionals(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    os.utime(tmp_path / "f", (1_000_000_000, 1_000_000_000))
    current = Validators.of(os.stat(tmp_path / "f"))
    assert current.last_modified == "Sun, 09 Sep 2001 01:46:40 GMT"
    assert not_modified(current, current.etag, None)
    assert not_modified(current, f'W/{current.etag}, "x"', None)
    assert not not_modified(current, '"x"', current.last_modified), "If-None-Match decides"
    assert not_modified(current, None, current.last_modified)
    assert not not_modified(current, None, "Sun, 09 Sep 2001 01:46:39 GMT")
    assert not not_modified(current, None, "garbage")
    assert range_allowed(current, None)
    assert range_allowed(current, current.etag)
    assert range_allowed(current, current.last_modified)
    assert not range_allowed(current, f"W/{current.etag}")
    assert not range_allowed(current, '"stale"')
