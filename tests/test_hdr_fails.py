"""Every check of the HDR chapter fails on an implementation that breaks its rule.

The checks are called directly with each fixture value they can get (both
transports, the served app, the app behind GZipMiddleware, BaseHTTPMiddleware
or nginx); a check fails on an app when it raises for any of them. Each broken
app in ``tests/broken/hdr_apps.py`` is the reference app with one detail
broken, and names the checks that must catch it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

import spec.stepping
from impl.app import create_app
from spec.intermediaries.asgi import behind, untraced
from spec.intermediaries.nginx import NginxUnavailable, find_nginx, running_nginx
from spec.targets.asgi_types import ASGIApp
from spec.targets.client import AsgiClient, SocketClient
from spec.targets.server import serve
from spec.targets.target import Target
from tests.broken import hdr_apps
from tests.checks import checks_of

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


class Surroundings:
    """Serves an app (alone, behind middleware, behind nginx) on demand, until closed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.stack = ExitStack()
        self.urls: dict[str, str] = {}

    def url(self, via: str = "direct") -> str:
        if via not in self.urls:
            app = (
                self.app
                if via == "direct"
                else behind(self.app, "gzip" if via == "gzip" else "basehttp")
            )
            self.urls[via] = self.stack.enter_context(
                serve(app if via == "direct" else untraced(app))
            )
        return self.urls[via]

    def nginx(self) -> str:
        if "nginx" not in self.urls:
            try:
                self.urls["nginx"] = self.stack.enter_context(running_nginx(self.url()))
            except NginxUnavailable as error:
                pytest.skip(f"nginx: {error}")
        return self.urls["nginx"]

    def values(self, fixture: str) -> list[Any]:
        """Every value the fixture *fixture* takes for this app."""
        if fixture == "stream_client":
            return [AsgiClient(self.app), SocketClient(self.url())]
        if fixture in ("gzip_client", "basehttp_client"):
            via = fixture.removesuffix("_client")
            wrapped = behind(self.app, "gzip" if via == "gzip" else "basehttp")
            return [AsgiClient(wrapped), SocketClient(self.url(via))]
        if fixture == "live_url":
            return [self.url()]
        if fixture == "target":
            return [Target("broken", self.app)]
        if fixture == "nginx_url":
            return [self.nginx()]
        raise AssertionError(f"no value for fixture {fixture}")


@pytest.fixture
def surroundings() -> Iterator[Callable[[ASGIApp], Surroundings]]:
    made: list[Surroundings] = []

    def make(app: ASGIApp) -> Surroundings:
        made.append(Surroundings(app))
        return made[-1]

    yield make
    for each in made:
        each.stack.close()


async def failing_variants(check: Callable[..., Any], where: Surroundings) -> list[str]:
    """The fixture values on which *check* raised, each with the error, empty if it passed."""
    (fixture,) = inspect.signature(check).parameters
    failed = []
    for value in where.values(fixture):
        try:
            await check(**{fixture: value})
        except Exception as error:
            failed.append(f"{getattr(value, 'transport', value)}: {type(error).__name__}: {error}")
    return failed


@pytest.fixture
def short_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Held-back items are expected here: give up on each after one second, not five."""
    monkeypatch.setattr(spec.stepping, "STEP_GUARD_SECONDS", 1.0)


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
