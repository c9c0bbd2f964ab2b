"""The pytest plugin that runs the spec: options, target fixtures and the rule report.

Options:
    ``--target=module:attr``   the ASGI app under test (default: the reference app)
    ``--decoder=module:attr``  the SSE decoder the parsing chapter checks (default: the oracle)
    ``--rules=ID,GLOB,...``    run only the checks of these rules (``SSE-ENC-*``)
    ``--report-json=PATH``     write the rule-by-rule report as JSON

Fixtures a check may ask for: ``target``, ``stream_client`` (each transport in
turn), ``live_url`` and ``make_decoder``.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from spec import chapters
from spec import report as rule_report
from spec.decoders import DEFAULT_DECODER, DecoderFactory, load_decoder
from spec.rules import REGISTRY
from spec.targets.client import AsgiClient, SocketClient, StreamClient
from spec.targets.server import serve
from spec.targets.target import DEFAULT_TARGET, Target, TargetError, load_target

# No deadline anywhere: an example's duration is never a verdict (benchmarks measure speed).
# The explain phase re-runs failing examples many times over; only "thorough" pays for it.
_QUICK_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
settings.register_profile("dev", max_examples=30, deadline=None, phases=_QUICK_PHASES)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    phases=_QUICK_PHASES,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("streamspec", "streamspec: run the spec against a target")
    group.addoption(
        "--target",
        default=os.environ.get("STREAMSPEC_TARGET", DEFAULT_TARGET),
        help=f"ASGI app under test, module:attribute (default {DEFAULT_TARGET})",
    )
    group.addoption(
        "--decoder",
        default=DEFAULT_DECODER,
        help=f"SSE decoder factory the parsing chapter checks (default {DEFAULT_DECODER})",
    )
    group.addoption(
        "--rules", default="", help="comma-separated rule IDs or globs to run, e.g. SSE-ENC-*"
    )
    group.addoption("--report-json", default=None, help="write the rule report as JSON here")


def pytest_configure(config: pytest.Config) -> None:
    chapters.load_all()
    config.pluginmanager.register(RuleRecorder(config), "streamspec-rule-recorder")


class RuleRecorder:
    """Maps each check to its rule, records outcomes, prints and writes the rule report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rule_of: dict[str, str] = {}
        self.outcomes: dict[str, rule_report.CheckOutcome] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("rule")
            if marker is not None:
                self.rule_of[item.nodeid] = str(marker.args[0])
        option = str(self.config.getoption("--rules"))
        wanted = [pattern.strip() for pattern in option.split(",") if pattern.strip()]
        if not wanted:
            return
        selected: list[pytest.Item] = []
        deselected: list[pytest.Item] = []
        for item in items:
            rule_id = self.rule_of.get(item.nodeid)
            matches = rule_id is not None and any(
                fnmatch.fnmatchcase(rule_id, pattern) for pattern in wanted
            )
            (selected if matches else deselected).append(item)
        if deselected:
            self.config.hook.pytest_deselected(items=deselected)
            items[:] = selected

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        rep = yield
        rule_id = self.rule_of.get(item.nodeid)
        if rep.failed and rule_id is not None:
            rule = REGISTRY[rule_id]
            rep.sections.insert(0, (f"spec rule {rule.id}", f"{rule}\nsource: {rule.source}"))
        return rep

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.rule_of:
            return
        if report.passed:
            if report.when == "call":
                self.outcomes.setdefault(
                    report.nodeid, rule_report.CheckOutcome(report.nodeid, rule_report.PASS)
                )
            return
        if report.skipped:
            reason = _skip_reason(report)
            outcome = rule_report.CheckOutcome(
                report.nodeid, rule_report.classify_skip(reason), reason
            )
        else:
            outcome = rule_report.CheckOutcome(
                report.nodeid, rule_report.FAIL, _failure_message(report)
            )
        previous = self.outcomes.get(report.nodeid)
        if previous is None or previous.outcome == rule_report.PASS:
            self.outcomes[report.nodeid] = outcome

    def results(self) -> list[rule_report.RuleResult]:
        by_rule: dict[str, list[rule_report.CheckOutcome]] = {}
        for nodeid, outcome in self.outcomes.items():
            by_rule.setdefault(self.rule_of[nodeid], []).append(outcome)
        return rule_report.summarise(REGISTRY.values(), by_rule)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.rule_of:
            return
        results = self.results()
        target = str(self.config.getoption("--target"))
        terminalreporter.write_sep("=", f"streamspec rules: {target}")
        for line in rule_report.table(results, width=terminalreporter._tw.fullwidth):
            terminalreporter.write_line(line)
        for entry in results:
            if entry.result != rule_report.FAIL:
                continue
            terminalreporter.write_line("")
            terminalreporter.write_line(str(entry.rule), red=True, bold=True)
            for reason in entry.reasons[:3]:
                terminalreporter.write_line("    " + reason.replace("\n", "\n    "))
        path = self.config.getoption("--report-json")
        if path:
            rule_report.write_json(Path(str(path)), target, results)
            terminalreporter.write_line(f"rule report written to {path}")


def _skip_reason(rep: pytest.TestReport) -> str:
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple):
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure_message(rep: pytest.TestReport) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "")) or rep.longreprtext
    return message.strip()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The target under test, loaded from ``--target``."""
    try:
        return load_target(str(request.config.getoption("--target")))
    except TargetError as error:
        pytest.exit(str(error), returncode=4)


@pytest.fixture(scope="session")
def live_url(target: Target) -> Iterator[str]:
    """The base URL of the target served by uvicorn on 127.0.0.1, for the session."""
    with serve(target.app) as url:
        yield url


@pytest.fixture(scope="session", params=["asgi", "socket"])
def stream_client(request: pytest.FixtureRequest, target: Target) -> StreamClient:
    """A client for the target over each transport in turn: ASGI messages, then a socket."""
    if request.param == "asgi":
        return AsgiClient(target.app)
    return SocketClient(request.getfixturevalue("live_url"))


@pytest.fixture(scope="session")
def make_decoder(request: pytest.FixtureRequest) -> DecoderFactory:
    """The factory of the SSE decoder under test (``--decoder``), the oracle by default."""
    return load_decoder(str(request.config.getoption("--decoder")))
