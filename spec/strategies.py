"""Hypothesis strategies for what streams carry, biased towards what breaks framing."""

from __future__ import annotations

from hypothesis import strategies as st

from spec.sse import Event

#: Characters that break hand-made framing or naive decoders, drawn often.
TRICKY_CHARACTERS = (
    "\n", "\r", "\r\n", "\0", ":", " ", "\ufeff",
    "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e",
    "é", "例", "🎉",
)  # fmt: skip

_any_character = st.characters(codec="utf-8")


def texts(*, exclude: str = "", max_size: int = 40) -> st.SearchStrategy[str]:
    """Unicode text (no surrogates) with the tricky characters mixed in, minus *exclude*."""
    tricky = [c for c in TRICKY_CHARACTERS if not any(x in c for x in exclude)]
    plain = st.characters(codec="utf-8", exclude_characters=exclude) if exclude else _any_character
    return st.lists(st.one_of(st.sampled_from(tricky), plain), max_size=max_size).map("".join)


@st.composite
def events(draw: st.DrawFn) -> Event:
    """Any event the encoder accepts: type and id without CR/LF, id without NUL."""
    return Event(
        data=draw(texts()),
        event=draw(st.none() | texts(exclude="\r\n", max_size=10)),
        id=draw(st.none() | texts(exclude="\r\n\0", max_size=10)),
        retry=draw(st.none() | st.integers(min_value=0, max_value=2**53)),
        comment=draw(st.none() | texts(max_size=20)),
    )


def cut_points(size: int) -> st.SearchStrategy[list[int]]:
    """Positions at which to cut a byte string of *size* bytes into chunks."""
    return st.lists(st.integers(min_value=0, max_value=max(size, 0)), max_size=12)


def json_values() -> st.SearchStrategy[object]:
    """Any JSON value: tricky strings (raw LF, CR, U+2028 inside), nesting, finite numbers."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**64), max_value=2**64)
        | st.floats(allow_nan=False, allow_infinity=False)
        | texts()
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(texts(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
