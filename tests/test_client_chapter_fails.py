"""Every check of the client chapter (``SSE-CLIENT``) fails on a client broken to break it.

Each case is a child ``pytest spec --rules=... --client-command=...`` run, read
through its JSON report. The client is the suite's own (``spec.clients.oracle``)
around a broken decoder of ``tests/broken/decoders.py`` where the bug is in the
parsing, and a broken adapter of ``tests/broken/clients.py`` where a decoder
cannot show it (the status, the Content-Type, how the body is read, the adapter
itself).

A run selects the rules its client must fail, and at times a neighbour it must
pass; within them the failing checks must be exactly the ones named, so a check
that fails for a reason other than its own shows here as well as one that
never fails. That the correct client passes every rule is the plain spec run's
job (``pytest spec`` checks the oracle client by default), not repeated here;
the rules between connections (SSE-CLIENT-14 to 17) are also shown passing on
Chromium's ``EventSource``, the model of a correct client, and on the npm
``eventsource``, and not applicable to a client that does not reconnect.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from spec.chapters import sse_client
from tests.broken.clients import command
from tests.browser import chromium
from tests.checks import checks_of
from tests.run_suite import SuiteRun, run_spec

CHECKS = {
    "SSE-CLIENT-01": [
        "check_utf8_and_replacement",
        "check_charset_parameter_is_ignored",
        "check_character_split_between_reads",
    ],
    "SSE-CLIENT-02": ["check_leading_bom_is_ignored", "check_second_bom_is_text"],
    "SSE-CLIENT-03": [
        "check_cr_only_line_ends",
        "check_crlf_split_between_reads",
        "check_other_breaks_are_text",
    ],
    "SSE-CLIENT-04": [
        "check_event_dispatched_while_the_stream_pauses",
        "check_trailing_cr_dispatches_at_once",
    ],
    "SSE-CLIENT-05": ["check_comments_are_ignored", "check_unknown_fields_are_ignored"],
    "SSE-CLIENT-06": ["check_event_types"],
    "SSE-CLIENT-07": ["check_data_lines"],
    "SSE-CLIENT-08": ["check_blank_lines_without_data"],
    "SSE-CLIENT-09": [
        "check_id_carries_over",
        "check_empty_id_resets",
        "check_id_with_nul_is_ignored",
    ],
    "SSE-CLIENT-10": [
        "check_retry_digits_are_accepted",
        "check_retry_that_is_not_ascii_digits_is_ignored",
    ],
    "SSE-CLIENT-11": [
        "check_incomplete_final_event_is_discarded",
        "check_cut_final_line_is_discarded",
    ],
    "SSE-CLIENT-12": [
        "check_text_plain_fails",
        "check_missing_content_type_fails",
        "check_content_type_case_and_parameters",
    ],
    "SSE-CLIENT-13": ["check_server_error_fails", "check_no_content_fails"],
    "SSE-CLIENT-14": ["check_reconnects_after_the_retry_time"],
    "SSE-CLIENT-15": [
        "check_resumes_from_the_last_id",
        "check_empty_id_sends_no_header",
        "check_id_of_a_cut_event_is_not_sent",
    ],
    "SSE-CLIENT-16": [
        "check_no_reconnection_after_204",
        "check_no_reconnection_after_a_204_to_a_reconnection",
        "check_no_reconnection_after_500",
        "check_no_reconnection_after_a_wrong_content_type",
    ],
    "SSE-CLIENT-17": ["check_reconnects_after_a_dropped_connection"],
}
"""Every check of the chapter, by rule (a test keeps this in step with the chapter)."""


@dataclass(frozen=True)
class Broken:
    """A broken client, the checks it must fail (by rule) and the rules it must pass."""

    client: str
    fails: dict[str, set[str]]
    passes: tuple[str, ...] = ()

    @property
    def rules(self) -> str:
        return "--rules=" + ",".join(sorted({*self.fails, *self.passes}))


NPM_PACKAGES = Path(__file__).resolve().parent.parent / "peers" / "clients" / "js" / "node_modules"


def decoder(name: str) -> str:
    """The oracle client around the broken decoder *name*."""
    return f"{{python}} -m spec.clients.oracle --decoder tests.broken.decoders:{name} {{url}}"


def n(number: int) -> str:
    return f"SSE-CLIENT-{number:02}"


BROKEN = {
    # Decoding
    "Latin1": Broken(decoder("Latin1"), {n(1): set(CHECKS[n(1)])}),
    "decodes-by-charset": Broken(
        command("decodes-by-charset"), {n(1): {"check_charset_parameter_is_ignored"}}
    ),
    "decodes-each-read": Broken(
        command("decodes-each-read"), {n(1): {"check_character_split_between_reads"}}
    ),
    "KeepsBom": Broken(decoder("KeepsBom"), {n(2): {"check_leading_bom_is_ignored"}}),
    "DropsEveryBom": Broken(decoder("DropsEveryBom"), {n(2): {"check_second_bom_is_text"}}),
    # Lines
    "LfOnly": Broken(
        decoder("LfOnly"), {n(3): {"check_cr_only_line_ends", "check_crlf_split_between_reads"}}
    ),
    "Splitlines": Broken(
        decoder("Splitlines"),
        {n(3): {"check_crlf_split_between_reads", "check_other_breaks_are_text"}},
    ),
    "ForgetsCrAcrossReads": Broken(
        decoder("ForgetsCrAcrossReads"),
        {n(3): {"check_crlf_split_between_reads"}},
        passes=(n(4),),
    ),
    "WaitsAfterCr": Broken(
        decoder("WaitsAfterCr"), {n(4): {"check_trailing_cr_dispatches_at_once"}}, passes=(n(3),)
    ),
    "reads-whole-body": Broken(command("reads-whole-body"), {n(4): set(CHECKS[n(4)])}),
    "CommentEndsEvent": Broken(decoder("CommentEndsEvent"), {n(5): {"check_comments_are_ignored"}}),
    "ParsesComments": Broken(decoder("ParsesComments"), {n(5): {"check_comments_are_ignored"}}),
    "CaseInsensitiveFields": Broken(
        decoder("CaseInsensitiveFields"), {n(5): {"check_unknown_fields_are_ignored"}}
    ),
    # Events
    "TypeCarriesOver": Broken(
        decoder("TypeCarriesOver"),
        {n(6): {"check_event_types"}, n(8): {"check_blank_lines_without_data"}},
    ),
    "FirstEventFieldWins": Broken(decoder("FirstEventFieldWins"), {n(6): {"check_event_types"}}),
    "JoinsWithoutLf": Broken(decoder("JoinsWithoutLf"), {n(7): {"check_data_lines"}}),
    "SplitsAtLastColon": Broken(decoder("SplitsAtLastColon"), {n(7): {"check_data_lines"}}),
    "StripsAllTrailingLfs": Broken(decoder("StripsAllTrailingLfs"), {n(7): {"check_data_lines"}}),
    "DispatchesEmptyData": Broken(
        decoder("DispatchesEmptyData"), {n(8): {"check_blank_lines_without_data"}}
    ),
    "IdPerEvent": Broken(
        decoder("IdPerEvent"), {n(9): {"check_id_carries_over", "check_id_with_nul_is_ignored"}}
    ),
    "EmptyIdIgnored": Broken(decoder("EmptyIdIgnored"), {n(9): {"check_empty_id_resets"}}),
    "AcceptsNulId": Broken(decoder("AcceptsNulId"), {n(9): {"check_id_with_nul_is_ignored"}}),
    "RetryParsedWithInt": Broken(
        decoder("RetryParsedWithInt"), {n(10): {"check_retry_that_is_not_ascii_digits_is_ignored"}}
    ),
    "IgnoresRetry": Broken(decoder("IgnoresRetry"), {n(10): {"check_retry_digits_are_accepted"}}),
    "RetryZeroIgnored": Broken(
        decoder("RetryZeroIgnored"), {n(10): {"check_retry_digits_are_accepted"}}
    ),
    "DispatchesIncompleteEvent": Broken(
        decoder("DispatchesIncompleteEvent"), {n(11): set(CHECKS[n(11)])}
    ),
    # The response
    "ignores-content-type": Broken(
        command("ignores-content-type"),
        {n(12): {"check_text_plain_fails", "check_missing_content_type_fails"}},
        passes=(n(13),),
    ),
    "compares-content-type-as-written": Broken(
        command("compares-content-type-as-written"),
        {n(12): {"check_content_type_case_and_parameters"}},
    ),
    "ignores-status": Broken(
        command("ignores-status"), {n(13): {"check_server_error_fails"}}, passes=(n(12),)
    ),
    "ends-quietly-on-no-content": Broken(
        command("ends-quietly-on-no-content"), {n(13): {"check_no_content_fails"}}
    ),
    # Between connections (the oracle reconnects; these break it between responses)
    "reconnects-at-once": Broken(
        command("reconnects-at-once"), {n(14): set(CHECKS[n(14)])}, passes=(n(17),)
    ),
    "ends-with-the-response": Broken(
        command("ends-with-the-response"), {n(14): set(CHECKS[n(14)])}, passes=(n(17),)
    ),
    "keeps-the-first-last-event-id": Broken(
        command("keeps-the-first-last-event-id"),
        {n(15): {"check_resumes_from_the_last_id"}},
        passes=(n(14),),
    ),
    "IdPerEvent-resuming": Broken(
        decoder("IdPerEvent"), {n(15): {"check_resumes_from_the_last_id"}}
    ),
    "EmptyIdIgnored-resuming": Broken(
        decoder("EmptyIdIgnored"), {n(15): {"check_empty_id_sends_no_header"}}
    ),
    "IdTakenWhenRead-resuming": Broken(
        decoder("IdTakenWhenRead"), {n(15): {"check_id_of_a_cut_event_is_not_sent"}}
    ),
    "retries-after-no-content": Broken(
        command("retries-after-no-content"),
        {
            n(16): {
                "check_no_reconnection_after_204",
                "check_no_reconnection_after_a_204_to_a_reconnection",
            }
        },
        passes=(n(13),),
    ),
    "retries-after-every-failure": Broken(
        command("retries-after-every-failure"), {n(16): set(CHECKS[n(16)])}
    ),
    "gives-up-on-network-error": Broken(
        command("gives-up-on-network-error"), {n(17): set(CHECKS[n(17)])}, passes=(n(14),)
    ),
}


def assert_fails_as_expected(run: SuiteRun, broken: Broken) -> None:
    assert run.returncode == 1, run.output
    assert run.failing() == set(broken.fails), run.output
    for rule_id, checks in broken.fails.items():
        assert set(run.checks(rule_id)) == checks, run.output
    for rule_id in broken.passes:
        assert run.results()[rule_id] == "pass", run.output


def test_the_table_names_every_check_of_the_chapter() -> None:
    """``CHECKS`` is the chapter's, and every check in it fails on some client below."""
    chapter = {(rule_id, name) for rule_id, name, _ in checks_of("SSE-CLIENT-")}
    listed = {(rule_id, name) for rule_id, names in CHECKS.items() for name in names}
    assert listed == chapter
    assert {rule.id for rule in sse_client.chapter.rules()} == set(CHECKS)
    failed = {
        (rule_id, name)
        for broken in BROKEN.values()
        for rule_id, names in broken.fails.items()
        for name in names
    }
    assert failed == listed


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_client_fails_its_checks(tmp_path: Path, name: str) -> None:
    broken = BROKEN[name]
    run = run_spec(tmp_path, broken.rules, f"--client-command={broken.client}")
    assert_fails_as_expected(run, broken)


def test_a_line_outside_the_protocol_fails_the_check(tmp_path: Path) -> None:
    """A client that parses right but prints a stray line is not passed: the line is reported."""
    run = run_spec(
        tmp_path, "--rules=SSE-CLIENT-06", f"--client-command={command('prints-a-log-line')}"
    )
    assert_fails_as_expected(run, Broken("", {n(6): {"check_event_types"}}))
    assert "protocol error: not JSON: 'connecting to" in run.checks(n(6))["check_event_types"]


def test_a_hanging_client_is_stopped_and_fails(tmp_path: Path) -> None:
    """A client that never exits is stopped by the runner's guard, and the check says it hung."""
    run = run_spec(
        tmp_path,
        "--rules=SSE-CLIENT-06",
        f"--client-command={command('hangs-after-first-event')}",
        env={"STREAMSPEC_CLIENT_GUARD": "3"},
    )
    assert_fails_as_expected(run, Broken("", {n(6): {"check_event_types"}}))
    assert "hung (stopped by the guard)" in run.checks(n(6))["check_event_types"]


RECONNECTION_RULES = "--rules=SSE-CLIENT-14,SSE-CLIENT-15,SSE-CLIENT-16,SSE-CLIENT-17"

CORRECT = {
    "Chromium EventSource": "{python} -m peers.clients.chromium {url}",
    "eventsource (npm)": "node peers/clients/js/eventsource.mjs {url}",
}
"""Clients that pass the rules between connections: the browser's, and the npm one."""


def correct_client_missing(name: str) -> str | None:
    """Why the correct client *name* cannot run here, or ``None``."""
    if name.startswith("Chromium"):
        return None if chromium() else "no chromium on PATH (.ci/run installs Debian's)"
    if shutil.which("node") is None:
        return "no node on PATH"
    if not (NPM_PACKAGES / "eventsource").is_dir():
        return "peers/clients/js not installed (python -m peers.clients.npm)"
    return None


@pytest.mark.parametrize("name", list(CORRECT))
def test_a_correct_client_passes_the_rules_between_connections(tmp_path: Path, name: str) -> None:
    """Each broken client above fails its rule; these, which reconnect as WHATWG says, pass."""
    missing = correct_client_missing(name)
    if missing is not None:
        pytest.skip(missing)
    run = run_spec(tmp_path, RECONNECTION_RULES, f"--client-command={CORRECT[name]}")
    assert run.returncode == 0, run.output
    assert {rule: run.results()[rule] for rule in CHECKS if rule >= n(14)} == {
        n(number): "pass" for number in range(14, 18)
    }, run.output


def test_a_client_that_does_not_reconnect_is_not_judged(tmp_path: Path) -> None:
    """httpx-sse reads one response: its adapter does not declare ``reconnect``, so the
    rules between connections are not applicable to it (never a pass, never a fail)."""
    pytest.importorskip("httpx_sse", reason="the clients extra is not installed")
    run = run_spec(
        tmp_path, RECONNECTION_RULES, "--client-command={python} -m peers.clients.httpx_sse {url}"
    )
    assert {rule: run.results()[rule] for rule in CHECKS if rule >= n(14)} == {
        n(number): "not applicable" for number in range(14, 18)
    }, run.output
