"""File downloads that take a liberty the spec's text allows, each in one way: they must pass.

The counterpart of :mod:`tests.broken.file_apps`: where the text of a rule (or
of the surface contract) allows two behaviours, the reference shows one and an
app here the other, so that a check that accepts only the reference's reading
is caught (``tests/test_file_allowed.py``). :data:`ALLOWED` maps each app to
the rules it must pass.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from impl.app import create_app
from impl.download import FileDownload
from impl.ranges import Decision, Ignore, Unsatisfiable, parse_range
from spec.targets.asgi_types import Scope
from tests.broken.file_apps import Serve, files_app, with_request

CAP = 6
"""The fewest range-specs the spec lets a server cap a Range at (FILE-RANGE-06)."""


def _selected(spec: str, length: int) -> tuple[int, int] | None:
    first, _, last = spec.strip().partition("-")
    if not first:
        return (max(length - int(last), 0), length - 1) if int(last) and length else None
    if int(first) >= length:
        return None
    return int(first), min(int(last), length - 1) if last else length - 1


def _overlapping(spans: list[tuple[int, int]]) -> int:
    """How many of *spans* share a byte with another of them."""
    return sum(
        any(i != j and a <= d and c <= b for j, (c, d) in enumerate(spans))
        for i, (a, b) in enumerate(spans)
    )


def guarded(refusal: Decision) -> Callable[[str, int], Decision]:
    """The reference's decision, but *refusal* for more than :data:`CAP` range-specs or more
    than two overlapping ranges (RFC 9110 section 14.2: signs of a denial-of-service attack)."""

    def decide(header: str, length: int) -> Decision:
        decision = parse_range(header, length)
        if isinstance(decision, Ignore):
            return decision
        specs = [spec for spec in header.partition("=")[2].split(",") if spec.strip()]
        spans = [span for spec in specs if (span := _selected(spec, length)) is not None]
        if len(specs) > CAP or _overlapping(spans) > 2:
            return refusal
        return decision

    return decide


def _download(ranges: Callable[[str, int], Decision]) -> Serve:
    async def serve(root: Path, name: str, request: Request) -> Response:
        return FileDownload(root, name, filename=request.query_params.get("as"), ranges=ranges)

    return serve


ignores_suspicious_ranges = files_app(_download(guarded(Ignore())))
"""Answers 200 with the whole file to more than six ranges or more than two overlapping."""

rejects_suspicious_ranges = files_app(_download(guarded(Unsatisfiable())))
"""Answers 416 to more than six ranges or more than two overlapping."""


def _no_range_with_a_date(scope: Scope) -> Scope:
    """A Range beside an If-Range that is a date (not an entity tag) is dropped."""
    fields = dict(scope["headers"])
    if_range = fields.get(b"if-range", b'"').lstrip()
    if if_range.startswith((b'"', b"W/")):
        return scope
    return {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"range"]}


dates_never_strong = with_request(create_app(), _no_range_with_a_date)
"""Deems no Last-Modified date a strong validator: an If-Range date never lets a Range apply."""


ALLOWED: dict[str, str] = {
    "dates_never_strong": "FILE-RANGE-05",
    "ignores_suspicious_ranges": "FILE-RANGE-*",
    "rejects_suspicious_ranges": "FILE-RANGE-*",
}
"""Each allowed app, by attribute name, and the rules (a ``--rules`` pattern) it must pass."""
