"""Every check of the FILE chapter fails on a download broken in the way its rule forbids.

The broken apps of :mod:`tests.broken.file_apps` are served by uvicorn on
loopback and called at the ASGI level; each check of the rules an app must
break is called directly, over every transport it takes. The hypothesis
properties are shown failing in ``tests/test_file_suite_fails.py``, and the reference
passing them all in ``tests/test_suite_fails.py``.
"""

from __future__ import annotations

import gc
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from spec.chapters import file
from spec.targets.asgi_types import ASGIApp
from spec.targets.client import AsgiClient, SocketClient
from spec.targets.server import serve
from spec.targets.target import Target
from tests.broken import file_apps
from tests.checks import checks_of, is_property

FILE_CHECKS = [
    c for c in [*checks_of("FILE-"), *checks_of("SURFACE-FILES-")] if not is_property(c[2])
]

# The tutorial's generator and its like hold an open file; when the client leaves they are
# dropped unclosed (a defect of theirs the cancellation chapter covers, not this one).
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)

_RESULTS: dict[str, dict[str, str]] = {}


async def failing_checks(
    app: ASGIApp, checks: list[tuple[str, str, Callable[..., Any]]]
) -> dict[str, str]:
    """``{check[transport]: rule ID}`` of the *checks* that fail against *app*."""
    failed: dict[str, str] = {}
    with serve(app) as url:
        for rule_id, name, check in checks:
            parameters = inspect.signature(check).parameters
            runs: list[tuple[str, dict[str, Any]]] = []
            if "stream_client" in parameters:
                runs = [
                    ("asgi", {"stream_client": AsgiClient(app)}),
                    ("socket", {"stream_client": SocketClient(url)}),
                ]
            elif "target" in parameters:
                runs = [("asgi", {"target": Target("broken", app)})]
            elif "live_url" in parameters:
                runs = [("socket", {"live_url": url})]
            for transport, kwargs in runs:
                try:
                    await check(**kwargs)
                except pytest.skip.Exception:
                    pass
                except Exception:
                    failed[f"{name}[{transport}]"] = rule_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()  # here, not during a later test module
    return failed


async def results_of(name: str) -> dict[str, str]:
    """The failing checks of the broken app *name*, among those of the rules it must break."""
    if name not in _RESULTS:
        rules = file_apps.BROKEN[name]
        checks = [c for c in FILE_CHECKS if c[0] in rules]
        _RESULTS[name] = await failing_checks(getattr(file_apps, name), checks)
    return _RESULTS[name]


@pytest.mark.parametrize("name", sorted(file_apps.BROKEN))
async def test_each_broken_download_is_caught(name: str) -> None:
    failed_rules = set((await results_of(name)).values())
    expected = file_apps.BROKEN[name]
    assert expected <= failed_rules, f"{name}: expected {sorted(expected)}, got {failed_rules}"


async def test_every_file_check_fails_on_some_broken_download() -> None:
    caught: set[str] = set()
    for name in file_apps.BROKEN:
        caught |= {key.split("[")[0] for key in await results_of(name)}
    never = sorted({name for _, name, _ in FILE_CHECKS} - caught)
    assert never == [], f"checks no broken download fails: {never}"


async def test_a_file_held_whole_before_it_shrank_is_not_observable() -> None:
    """A server that has read the whole file before it shrinks sends it complete, as long as
    it declared: FILE-LENGTH-02's socket check cannot see the shrink, and says so instead of
    failing (the broken ``buffers`` download, which FILE-MEM-01 fails)."""
    with (
        serve(file_apps.buffers) as url,
        pytest.raises(pytest.skip.Exception, match="arrived whole, as declared"),
    ):
        await file.check_shrinking_file_socket(live_url=url)
