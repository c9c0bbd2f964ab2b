"""Every check of the SSE chapters fails on an implementation that breaks its rule.

Each broken decoder and encoder in ``tests/broken`` has one seeded bug and the
rules it must be caught breaking. The checks are called directly (no pytest
run inside the run): a check fails when it raises. The hypothesis property
checks are run by ``tests/test_suite_fails.py`` instead, through pytest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from impl.app import create_app
from spec.sse import Decoder, encode
from spec.targets.client import AsgiClient
from tests.broken import decoders, encoders
from tests.broken.surface_app import surface_app, text_app
from tests.checks import checks_of, is_property

PARSE_CHECKS = checks_of("SSE-PARSE-")
ENCODE_CHECKS = [c for c in checks_of("SSE-ENC-") if not is_property(c[2])]
SURFACE_CHECKS = checks_of("SURFACE-SSE-")


def failing_parse_checks(factory: Callable[[], Any]) -> dict[str, str]:
    """``{check name: rule ID}`` of the parsing checks that fail against *factory*."""
    failed = {}
    for rule_id, name, check in PARSE_CHECKS:
        try:
            check(make_decoder=factory)
        except Exception:
            failed[name] = rule_id
    return failed


async def failing_encode_checks(app: Any, checks: Any = ENCODE_CHECKS) -> dict[str, str]:
    """``{check name: rule ID}`` of the (encoding) checks that fail against *app*."""
    client = AsgiClient(app)
    failed = {}
    for rule_id, name, check in checks:
        try:
            await check(stream_client=client)
        except pytest.skip.Exception:
            pass  # not observable or not applicable: not a failure, and never a pass either
        except Exception:
            failed[name] = rule_id
    return failed


def test_the_oracle_passes_every_parsing_check() -> None:
    assert failing_parse_checks(Decoder) == {}


@pytest.mark.parametrize("name", sorted(decoders.MUTANTS))
def test_each_broken_decoder_is_caught(name: str) -> None:
    factory, rules = decoders.MUTANTS[name]
    failed_rules = set(failing_parse_checks(factory).values())
    assert rules <= failed_rules, f"{name}: expected {sorted(rules)} to fail, got {failed_rules}"


def test_every_parsing_check_fails_on_some_broken_decoder() -> None:
    caught: set[str] = set()
    for factory, _ in decoders.MUTANTS.values():
        caught |= set(failing_parse_checks(factory))
    never = sorted({name for _, name, _ in PARSE_CHECKS} - caught)
    assert never == [], f"checks no broken decoder fails: {never}"


async def test_the_reference_encoder_passes_every_encoding_check() -> None:
    assert await failing_encode_checks(create_app()) == {}


@pytest.mark.parametrize("name", sorted(encoders.MUTANTS))
async def test_each_broken_encoder_is_caught(name: str) -> None:
    framing, rules = encoders.MUTANTS[name]
    failed_rules = set((await failing_encode_checks(surface_app(framing))).values())
    assert rules <= failed_rules, f"{name}: expected {sorted(rules)} to fail, got {failed_rules}"


@pytest.mark.parametrize("name", sorted(encoders.UNCHECKED_MUTANTS))
async def test_each_broken_encoder_of_unchecked_input_is_caught(name: str) -> None:
    framing, rules = encoders.UNCHECKED_MUTANTS[name]
    app = surface_app(framing, check_input=False)
    failed_rules = set((await failing_encode_checks(app)).values())
    assert rules <= failed_rules, f"{name}: expected {sorted(rules)} to fail, got {failed_rules}"


async def test_every_encoding_check_fails_on_some_broken_encoder() -> None:
    caught: set[str] = set()
    for framing, _ in encoders.MUTANTS.values():
        caught |= set(await failing_encode_checks(surface_app(framing)))
    for framing, _ in encoders.UNCHECKED_MUTANTS.values():
        caught |= set(await failing_encode_checks(surface_app(framing, check_input=False)))
    never = sorted({name for _, name, _ in ENCODE_CHECKS} - caught)
    assert never == [], f"checks no broken encoder fails: {never}"


async def test_surface_checks_fail_on_a_broken_surface() -> None:
    """A stream served as text/plain, and a 500 on malformed input, are each caught."""
    wrong_type = surface_app(encode, media_type="text/plain")
    no_input_check = surface_app(encode, check_input=False)
    assert set((await failing_encode_checks(wrong_type, SURFACE_CHECKS)).values()) == {
        "SURFACE-SSE-01"
    }
    assert set((await failing_encode_checks(no_input_check, SURFACE_CHECKS)).values()) == {
        "SURFACE-SSE-02"
    }
    assert await failing_encode_checks(create_app(), SURFACE_CHECKS) == {}


async def test_text_surface_checks_fail_on_a_broken_text_endpoint() -> None:
    """A text endpoint that drops non-ASCII, and one that answers 500 to bad input, are caught."""
    text_checks = checks_of("SURFACE-TEXT-")
    assert set((await failing_encode_checks(text_app(ascii_only=True), text_checks)).values()) == {
        "SURFACE-TEXT-01"
    }
    assert set(
        (await failing_encode_checks(text_app(check_input=False), text_checks)).values()
    ) == {"SURFACE-TEXT-02"}
    assert await failing_encode_checks(create_app(), text_checks) == {}
