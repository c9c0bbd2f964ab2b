"""Every check of the HDR chapter fails on an implementation that breaks its rule.

The checks are called directly with each fixture value they can get (both
transports, the served app, the app behind GZipMiddleware, BaseHTTPMiddleware
or nginx); a check fails on an app when it raises for any of them. Each broken
app in ``tests/broken/hdr_apps.py`` is the reference app with one detail
broken, and names the checks that must catch it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from impl.app import create_app
from spec.intermediaries.nginx import find_nginx
from spec.targets.asgi_types import ASGIApp
from tests.broken import hdr_apps
from tests.checks import Surroundings, checks_of, failing_variants

HDR_CHECKS = {name: (rule_id, check) for rule_id, name, check in checks_of("HDR-")}

MUST_FAIL: dict[str, set[str]] = {
    "no_accel": {"check_sse_x_accel_buffering", "check_sse_behind_nginx_defaults"},
    "wrong_charset": {"check_sse_content_type"},
    "cacheable_sse": {"check_sse_cache_control"},
    "sse_status_203": {"check_sse_status_200"},
    "stop_as_200": {"check_stop_is_204"},
    "text_without_charset": {"check_text_content_type"},
    "text_sniffable": {"check_text_nosniff"},
    "drops_custom_headers": {
        "check_custom_header_on_text_stream",
        "check_custom_header_on_event_stream",
        "check_sse_behind_basehttp",
        "check_text_behind_basehttp",
    },
    "echoes_headers": {"check_no_crlf_from_input_in_headers"},
    "sse_content_length": {
        "check_sse_has_no_content_length",
        "check_chunked_framing_on_the_wire",
        "check_http10_close_delimited",
        "check_http10_at_message_level",
        "check_headers_before_first_event",
        "check_sse_behind_gzip",
        "check_sse_behind_documented_location",
    },
    "text_content_length": {
        "check_headers_before_first_chunk",
        "check_text_behind_documented_location",
    },
    "compressed_sse": {"check_sse_coding_flushes_each_event", "check_sse_behind_gzip"},
    "compressed_text": {"check_text_behind_gzip"},
    "no_final_chunk": {"check_final_body_message", "check_chunked_framing_on_the_wire"},
    "deaf_to_disconnect": {"check_stream_ends_on_disconnect_behind_basehttp"},
}

NGINX_CHECKS = {
    "check_sse_behind_nginx_defaults",
    "check_sse_behind_documented_location",
    "check_text_behind_documented_location",
}


@pytest.fixture
def short_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Held-back items are expected here: give up on each after one second, not five."""
    monkeypatch.setenv("STREAMSPEC_ARRIVAL_GUARD", "1")


def test_every_check_is_expected_to_fail_somewhere() -> None:
    covered = set().union(*MUST_FAIL.values())
    assert sorted(set(HDR_CHECKS) - covered) == []
    assert sorted(covered - set(HDR_CHECKS)) == []


async def test_reference_passes_every_check(
    surroundings: Callable[[ASGIApp], Surroundings],
) -> None:
    where = surroundings(create_app())
    failed = {}
    for name, (_, check) in HDR_CHECKS.items():
        if name in NGINX_CHECKS and find_nginx() is None:
            continue
        if errors := await failing_variants(check, where):
            failed[name] = errors
    assert failed == {}


@pytest.mark.usefixtures("short_guard")
@pytest.mark.parametrize("name", sorted(MUST_FAIL))
async def test_each_broken_app_is_caught(
    name: str, surroundings: Callable[[ASGIApp], Surroundings]
) -> None:
    where = surroundings(getattr(hdr_apps, name))
    passed = []
    for check_name in sorted(MUST_FAIL[name]):
        rule_id, check = HDR_CHECKS[check_name]
        if not await failing_variants(check, where):
            passed.append(f"{rule_id} {check_name}")
    assert passed == [], f"{name}: these checks passed on it"
