"""A target that never does what the suite waits for fails, and the run ends: no hang.

Each case is a child ``pytest spec --target=URL`` run against a server of
``tests/broken/silent_servers.py`` (it never answers, never ends a body,
never sends a body byte after its headers, never accepts a connection). The
run must finish, write its report, and judge no target rule a pass: each
fails, or is not observable, and a failing check says what it waited for.
The child's own guards end it; the test's timeout is a hang guard only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.broken.silent_servers import MODES, silent_server
from tests.run_suite import run_spec

WAITED_FOR = {
    "never_answers": "a status line and headers did not arrive",
    "never_ends_body": "the end of the body (after 7 bytes) did not arrive",
    "never_starts_body": "the first body byte after the headers did not arrive",
    "never_accepts": "was accepted within",
}
"""What the failing checks' messages name, per server."""

TARGET_CHAPTERS = "--rules=CANCEL-*,CHUNK-*,FILE-*,HDR-*,SSE-ENC-*,SURFACE-*"
"""Only the chapters that judge a target: the decoder's and the client's do not wait on it."""


@pytest.mark.timeout(300)  # a hang guard for a whole child run, on a busy machine too
@pytest.mark.parametrize("mode", MODES)
def test_silent_target_fails_without_hanging(tmp_path: Path, mode: str) -> None:
    with silent_server(mode) as url:
        run = run_spec(tmp_path, f"--target={url}", TARGET_CHAPTERS)
    assert run.returncode == 1, run.output
    target_rules = [rule for rule in run.report["rules"] if rule["about"] == "target"]
    assert target_rules, "the report judges the target"
    passed = [rule["id"] for rule in target_rules if rule["result"] == "pass"]
    assert passed == [], f"rules passed by a target that never answers: {passed}"
    failing = [rule for rule in target_rules if rule["result"] == "fail"]
    assert failing, "a target that never answers fails"
    messages = [
        check["message"]
        for rule in failing
        for check in rule["checks"]
        if check["outcome"] == "fail"
    ]
    unnamed = [message for message in messages if WAITED_FOR[mode] not in message]
    assert unnamed == [], f"failures that do not say what was waited for: {unnamed[:3]}"
