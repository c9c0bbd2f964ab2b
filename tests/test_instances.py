"""INSTANCES-RESUME-01 fails on the reference run twice with its feeds in memory, and
passes on the reference run twice on one real redis-server; it is not applicable to an
ASGI app in the suite's process."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spec.targets.command import run_command
from tests.redis_server import redis_server
from tests.run_suite import run_spec

RULE = "INSTANCES-RESUME-01"
CHECK = "check_resume_on_another_instance"
#: The reference, one instance a port; its feed backend comes from STREAMSPEC_FEED.
COMMAND = f"{sys.executable} -m uvicorn impl.app:app --port {{port}}"


def test_two_instances_with_feeds_in_memory_lose_events(tmp_path: Path) -> None:
    run = run_spec(
        tmp_path, "-k", CHECK, f"--target-command={COMMAND}", env={"STREAMSPEC_FEED": "memory"}
    )
    assert run.results()[RULE] == "fail", run.output
    (message,) = run.checks(RULE).values()
    assert "resumed" in message, message


def test_two_instances_on_one_redis_resume_exactly(tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis:
        run = run_spec(
            tmp_path, "-k", CHECK, f"--target-command={COMMAND}", env={"STREAMSPEC_FEED": redis.url}
        )
    assert run.results()[RULE] == "pass", run.output


def test_two_running_instances_named_by_url_on_one_redis_resume_exactly(
    tmp_path: Path,
) -> None:
    with (
        redis_server(tmp_path) as redis,
        _environment("STREAMSPEC_FEED", redis.url),
        run_command(COMMAND) as first,
        run_command(COMMAND) as second,
    ):
        run = run_spec(
            tmp_path,
            "-k",
            CHECK,
            f"--target={first.url}",
            f"--target-instances={first.url},{second.url}",
        )
    assert run.results()[RULE] == "pass", run.output


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """*name* set to *value* for the commands started while the block runs."""
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            del os.environ[name]
        else:
            os.environ[name] = saved


def test_an_asgi_app_is_one_instance(tmp_path: Path) -> None:
    run = run_spec(tmp_path, "-k", CHECK, "--target=impl.app:app")
    assert run.results()[RULE] == "not applicable", run.output
    (message,) = run.checks(RULE, "not applicable").values()
    assert "only one instance" in message, message
