"""The HTTP2 chapter run as a user runs it (child pytest, JSON report), ``--http=2`` on
hypercorn and on granian: each rule fails on its broken app (tests/broken/h2_apps.py),
and the reference gets exactly the verdicts below, each failure the server's (the
minimal reproductions are in tests/test_http2.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run_suite import SuiteRun, run_spec

RULES = ("HTTP2-END-01", "HTTP2-ABORT-01", "HTTP2-RESET-01", "HTTP2-FLOW-01")

REFERENCE = {
    # hypercorn 0.18.0 leaves a stream whose app raised open (no RST_STREAM, no END_STREAM),
    # and its send() never waits for a closed window, so a send timeout cannot fire.
    "hypercorn": {
        "HTTP2-END-01": "pass",
        "HTTP2-ABORT-01": "fail",
        "HTTP2-RESET-01": "pass",
        "HTTP2-FLOW-01": "pass",
    },
    # granian 2.8.9 resets a stream whose app raised, but not one whose app gave up on a
    # send the client's closed window held (a send timeout).
    "granian": {
        "HTTP2-END-01": "pass",
        "HTTP2-ABORT-01": "fail",
        "HTTP2-RESET-01": "pass",
        "HTTP2-FLOW-01": "pass",
    },
}
REFERENCE_ABORT_FAILURES = {
    "hypercorn": {"check_producer_error_resets_stream", "check_send_timeout_resets_stream"},
    "granian": {"check_send_timeout_resets_stream"},
}

BROKEN = [
    ("unfinished", "hypercorn", "HTTP2-END-01", "check_complete_body_ends_with_end_stream"),
    ("unfinished", "granian", "HTTP2-END-01", "check_complete_body_ends_with_end_stream"),
    ("swallowing", "hypercorn", "HTTP2-ABORT-01", "check_producer_error_resets_stream"),
    ("swallowing", "granian", "HTTP2-ABORT-01", "check_producer_error_resets_stream"),
    ("deaf", "hypercorn", "HTTP2-RESET-01", "check_reset_stream_cleans_up_and_others_go_on"),
    ("deaf", "granian", "HTTP2-RESET-01", "check_reset_stream_cleans_up_and_others_go_on"),
    # Only where send() waits for the window: hypercorn buffers, so nothing waits there.
    ("serialized", "granian", "HTTP2-FLOW-01", "check_closed_window_holds_back_no_other_stream"),
]
"""(app of tests/broken/h2_apps.py, server, rule it fails, the check that shows it)."""

WHAT_IT_SAW = {
    "unfinished": "RST_STREAM",
    "swallowing": "END_STREAM: the truncated body looks complete",
    "deaf": "cleanup ran after the client reset its stream",
    "serialized": "while another stream's window stays closed",
}


def _run(tmp_path: Path, target: str, server: str) -> SuiteRun:
    return run_spec(
        tmp_path,
        f"--target={target}",
        f"--server={server}",
        "--http=2",
        f"--rules={','.join(RULES)}",
    )


@pytest.mark.parametrize("server", sorted(REFERENCE))
def test_the_reference_over_http2(tmp_path: Path, server: str) -> None:
    run = _run(tmp_path, "impl.app:app", server)
    results = {rule: run.results()[rule] for rule in RULES}
    assert results == REFERENCE[server], run.output[-3000:]
    assert set(run.checks("HTTP2-ABORT-01")) == REFERENCE_ABORT_FAILURES[server]
    assert run.report["server"] == {**run.report["server"], "name": server, "http": "2"}


@pytest.mark.parametrize(("app", "server", "rule", "check"), BROKEN)
def test_each_http2_rule_fails_on_its_broken_app(
    tmp_path: Path, app: str, server: str, rule: str, check: str
) -> None:
    run = _run(tmp_path, f"tests.broken.h2_apps:{app}", server)
    failed = run.checks(rule)
    assert check in failed, run.output[-3000:]
    assert WHAT_IT_SAW[app] in failed[check]


def test_the_rules_are_not_applicable_over_http1(tmp_path: Path) -> None:
    run = run_spec(tmp_path, "--server=hypercorn", f"--rules={','.join(RULES)}")
    assert {rule: run.results()[rule] for rule in RULES} == dict.fromkeys(RULES, "not applicable")


def test_http1_framing_checks_are_not_applicable_over_http2(tmp_path: Path) -> None:
    """CHUNK-WIRE-01 reads chunked coding on a raw connection, HDR-NGINX-01 goes through
    nginx (HTTP/1.1 to its upstream): not applicable over HTTP/2, while a check that reads
    through httpx (SURFACE-TEXT-01) runs, and passes, over it."""
    run = run_spec(
        tmp_path,
        "--server=granian",
        "--http=2",
        "--rules=CHUNK-WIRE-01,HDR-NGINX-01,SURFACE-TEXT-01",
    )
    assert run.results()["CHUNK-WIRE-01"] == "not applicable"
    assert run.results()["HDR-NGINX-01"] == "not applicable"
    assert run.results()["SURFACE-TEXT-01"] == "pass"


def test_an_sse_only_target_is_read_as_the_events_it_frames(tmp_path: Path) -> None:
    """A target whose only streams are SSE serves the endless producer as one event per item
    (the chapter "Conformance surface"): the items are read from its events, so sse-starlette
    on hypercorn passes HTTP2-END-01, and HTTP2-ABORT-01 fails it on how the stream ended
    (hypercorn's bug, as for the reference), not on the items before the error."""
    run = run_spec(
        tmp_path,
        "--target=peers.sse_starlette:app",
        "--server=hypercorn",
        "--http=2",
        "--rules=HTTP2-END-01,HTTP2-ABORT-01",
    )
    assert run.results()["HTTP2-END-01"] == "pass", run.output[-3000:]
    failed = run.checks("HTTP2-ABORT-01")
    assert "RST_STREAM" in failed["check_producer_error_resets_stream"], failed
    assert (
        "the items before the producer failed" not in failed["check_producer_error_resets_stream"]
    )
