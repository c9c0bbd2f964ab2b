"""Tests of the suite: which of them judge the suite itself against broken implementations.

Those ("meta" tests) run the chapters against the apps of ``tests/broken`` and
``peers/``, many in child processes. Their outcome does not depend on the
Python version, and they take most of the run's time, so tox runs them on the
oldest supported CPython only (``-m "not meta"`` elsewhere); the specs and the
unit tests run on every version. The meta tests that run the whole suite end to
end (``runs``, :data:`RUNS_MODULES`) have an env of their own, ``tox -e runs``,
so that the default ``tox`` stays within 15 minutes on two cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from spec.targets.asgi_types import ASGIApp
from tests.checks import Surroundings

META_MODULES = {
    "test_baseline",
    "test_cancel_fails",
    "test_cancel_gc",
    "test_chat_fails",
    "test_capabilities",
    "test_checks_can_fail",
    "test_chunk_checks_fail",
    "test_curl_fails",
    "test_eventsource_page_fails",
    "test_chat_page_fails",
    "test_file_allowed",
    "test_kit_allowed",
    "test_file_checks_fail",
    "test_file_suite_fails",
    "test_hdr_fails",
    "test_feed_redis",
    "test_hdr_suite",
    "test_html_report",
    "test_matrix",
    "test_stalled_fails",
    "test_stalled_shutdown",
    "test_suite_fails",
    "test_target_warnings",
    "test_targets",
}


RUNS_MODULES = {
    "test_cli",
    "test_client_chapter_fails",
    "test_http2_fails",
    "test_instances",
    "test_kit_example",
    "test_prefix_suite",
    "test_silent_targets",
    "test_unearned_passes",
}
"""Meta tests that run the whole suite, end to end, as users run it: by URL, by command, under
a prefix, from the command line, over HTTP/2 on two servers, against two instances on Redis,
against targets that answer nothing, and SSE clients in a real browser (``tox -e runs``:
about half the meta tests' time, kept out of the default run's 15 minutes)."""

INSTALLED_MODULES = {"test_installed"}
"""Tests of the wheel in a fresh venv (``tox -e installed``): they build and install it."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = None if item.module is None else item.module.__name__.rsplit(".", 1)[-1]
        if name in META_MODULES:
            item.add_marker(pytest.mark.meta)
        elif name in RUNS_MODULES:
            item.add_marker(pytest.mark.runs)
        elif name in INSTALLED_MODULES:
            item.add_marker(pytest.mark.installed)


@pytest.fixture
def surroundings() -> Iterator[Callable[[ASGIApp], Surroundings]]:
    """Make :class:`~tests.checks.Surroundings` for any app; each is closed after the test."""
    made: list[Surroundings] = []

    def make(app: ASGIApp) -> Surroundings:
        made.append(Surroundings(app))
        return made[-1]

    yield make
    for each in made:
        each.close()
