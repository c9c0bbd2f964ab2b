"""The pytest plugin that runs the spec: options, target fixtures and the rule report.

Options:
    ``--target=module:attr``   the ASGI app under test (default: the reference app),
    ``--target=http://h:p``    or a server already running (wire-level checks only)
    ``--streamspec-target=...`` either, and the chapters collected beside a project's tests
                               (the option of :mod:`spec.pytest_entry`)
    ``--target-command=CMD``   or a command that serves on ``{port}`` (started and stopped here)
    ``--target-prefix=/base``  the base path the target's surface lives under (any kind)
    ``--target-instances=URL,URL`` running instances of one service, for INSTANCES-*
    ``--server=NAME``          the server of an ASGI target: uvicorn, hypercorn or granian
    ``--http=1.1|2``           the HTTP version the wire-level checks speak (2: h2c)
    ``--decoder=module:attr``  the SSE decoder the parsing chapter checks (default: the oracle)
    ``--client-command=CMD``   the adapter of the SSE client the client chapter checks,
                               run once a case with ``{url}`` (default: the suite's client)
    ``--rules=ID,GLOB,...``    run only the checks of these rules (``SSE-ENC-*``)
    ``--report-json=PATH``     write the rule-by-rule report as JSON
    ``--report-html=PATH``     write it as a self-contained HTML page
    ``--report-junit=PATH``    write it as JUnit XML, one testcase a rule
    ``--baseline=FILE``        rule IDs and check node ids known to fail (see spec.baseline)

In a pytest run of an environment where streamspec is installed, the
``pytest11`` entry point (:mod:`spec.pytest_entry`) loads this plugin only when
``--streamspec-target`` names a target: the chapters are then collected along
with the project's tests (:func:`pytest_collect_file`). Without it, nothing of
this module takes part in a project's run: none of its options (a project's own
``--target`` or ``--server`` would clash), fixtures, hooks or hypothesis profiles.

Fixtures a check may ask for: ``target``, ``stream_client`` (each transport in
turn), ``live_url``, ``make_decoder``, ``sse_client`` and ``capabilities``. A check marked with
:func:`spec.capabilities.requires` runs only if the target declares what it
needs; otherwise it is reported not applicable (or not observable).
"""

from __future__ import annotations

import fnmatch
import gc
import glob
import inspect
import os
import shutil
import sys
import textwrap
import time
import traceback
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import HealthCheck, Phase, settings

from spec import baseline as known_failures
from spec import chapters, console, html_report, junit, patience, repeat, threadsafe_ast, witness
from spec import report as rule_report
from spec.capabilities import MARKER, STREAMS, Capabilities
from spec.clients.replay import Replay
from spec.clients.runner import DEFAULT_CLIENT, ClientUnderTest
from spec.decoders import DEFAULT_DECODER, DecoderFactory, load_decoder
from spec.probe import TargetSilent, probe_capabilities, probe_silence
from spec.rules import CLIENT, DECODER, NOT_OBSERVABLE, REGISTRY, TARGET, Rule, RuleViolation
from spec.targets.client import AsgiClient, SocketClient, StreamClient, speak_http
from spec.targets.server import HTTP_VERSIONS, SERVERS, serve, server_version
from spec.targets.target import COMMAND, DEFAULT_TARGET, Target, TargetError, load_target
from spec.targets.unobservable import UnobservableClient

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
        default=os.environ.get("STREAMSPEC_TARGET"),
        help=f"ASGI app under test, module:attribute (default {DEFAULT_TARGET}), "
        "or the base URL of a running server, http://host:port",
    )
    group.addoption(
        "--target-command",
        default=os.environ.get("STREAMSPEC_TARGET_COMMAND"),
        help="a command that starts the server under test on {port} (and {python}: "
        "this interpreter), e.g. 'node server.js --port {port}'",
    )
    group.addoption(
        "--target-instances",
        default=None,
        help="two or more base URLs, comma-separated, of running instances of one service "
        "(the chapter 'Several instances' resumes on one what it read on another)",
    )
    group.addoption(
        "--target-prefix",
        default=None,
        help="the base path the target exposes its conformance surface under, e.g. /base: "
        "every request goes to /base/conformance/... (a URL target may give it as its path)",
    )
    group.addoption(
        "--server",
        default=None,
        choices=SERVERS,
        help="the server an ASGI target is served with on the wire: uvicorn (the default), "
        "hypercorn or granian (each installed separately); the report names it",
    )
    group.addoption(
        "--http",
        default=None,
        choices=HTTP_VERSIONS,
        help="the HTTP version the wire-level checks speak: 1.1 (the default) or 2 "
        "(h2c with prior knowledge; with --server=hypercorn or granian)",
    )
    group.addoption(
        "--decoder",
        default=None,
        help=f"SSE decoder factory the parsing chapter checks (default {DEFAULT_DECODER}); "
        "the parsing chapter's rules are reported only when one is named",
    )
    group.addoption(
        "--client-command",
        default=os.environ.get("STREAMSPEC_CLIENT_COMMAND"),
        help="the adapter of the SSE client the client chapter checks, with {url} (and "
        f"{{python}}), see spec/clients/protocol.py (default {DEFAULT_CLIENT!r}); the "
        "client chapter's rules are reported only when one is named",
    )
    group.addoption(
        "--rules", default="", help="comma-separated rule IDs or globs to run, e.g. SSE-ENC-*"
    )
    group.addoption(
        "--target-warnings",
        choices=("report", "error"),
        default="report",
        help="what a warning raised while a check runs does (the target's own, such as a "
        "ResourceWarning from its garbage, or a library's deprecation): 'report' (default) "
        "lists it in pytest's warnings summary and leaves the verdict alone, since when the "
        "garbage collector finds an unclosed file is not the target's behaviour on the wire; "
        "'error' fails the check, as the repo's own tox run does for the reference",
    )
    group.addoption("--report-json", default=None, help="write the rule report as JSON here")
    group.addoption(
        "--report-html", default=None, help="write the rule report as a self-contained HTML page"
    )
    group.addoption(
        "--report-junit",
        default=None,
        help="write the rule report as JUnit XML here: one testcase a rule (classname its "
        "chapter, name its ID), its checks as properties (not --junit-xml: that reads as "
        "pytest's own --junitxml, which writes one testcase a check)",
    )
    group.addoption(
        "--baseline",
        default=None,
        help="a file of rule IDs or check node ids known to fail, one a line, # comments: "
        "their failures do not fail the run; a listed one that passes fails it as stale",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Before any server thread starts: on CPython 3.11.0-3.11.7 two threads parsing at once
    # (a served app's traceback being logged, pytest formatting a failure) fail (issue 11).
    threadsafe_ast.install()
    chapters.load_all()
    config.addinivalue_line(
        "markers", f"{MARKER}(*capabilities): the target capabilities a check needs"
    )
    config.addinivalue_line("markers", "rule(rule_id): the spec rule a check verifies")
    _collect_chapters_for(config)
    recorder = RuleRecorder(config)
    path = config.getoption("--baseline")
    if path:
        try:
            recorder.baseline = known_failures.load(Path(str(path)), REGISTRY)
        except known_failures.BaselineError as error:
            raise pytest.UsageError(str(error)) from error
    config.pluginmanager.register(recorder, "streamspec-rule-recorder")


CHAPTERS_DIR = Path(chapters.__file__).resolve().parent
"""Where the chapters are, installed or in a checkout."""


def _collect_chapters_for(config: pytest.Config) -> None:
    """With ``--streamspec-target``: make it the target, and add the chapters to what
    the run collects (once, unless a path given already holds them)."""
    named = project_target(config)
    if not named:
        return
    given = config.getoption("--target")
    if given and given != named:
        raise pytest.UsageError(
            f"--streamspec-target={named} and --target={given}: name the target once"
        )
    config.option.target = named
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == CHAPTERS_DIR or CHAPTERS_DIR in path.parents:
            return
    config.args.append(str(CHAPTERS_DIR))


def project_target(config: pytest.Config) -> str | None:
    """The target ``--streamspec-target`` names (:mod:`spec.pytest_entry` adds the option),
    or ``None``: not given, or the plugin was loaded without the entry point."""
    named = config.getoption("--streamspec-target", None)
    return str(named) if named else None


def count_chapters_in(early_config: pytest.Config) -> None:
    """Count the chapters among the run's initial paths, so that the conftests above them
    load as initial ones, as for ``pytest spec`` in a checkout (one found later may not
    name plugins: the checkout's own, for an editable install).

    :mod:`spec.pytest_entry` calls it, with ``--streamspec-target``, from its
    ``pytest_load_initial_conftests``, once it has registered this plugin.
    """
    known = early_config.known_args_namespace
    known.file_or_dir = [*_initial_paths(early_config), str(CHAPTERS_DIR)]


def _initial_paths(early_config: pytest.Config) -> list[str]:
    """The paths the run would start from without the chapters, as pytest decides them:
    its arguments, else (run from the root directory) its ``testpaths``, globbed unless
    ``--pyargs``, else the directory it was run from."""
    known = early_config.known_args_namespace
    if known.file_or_dir:
        return [str(arg) for arg in known.file_or_dir]
    invocation = early_config.invocation_params.dir
    found: list[str] = []
    if invocation == early_config.rootpath:
        testpaths = [str(path) for path in early_config.getini("testpaths")]
        if known.pyargs:
            found = testpaths
        else:
            for path in testpaths:
                found += sorted(glob.iglob(path, recursive=True))
    return found or [str(invocation)]


def _matches_any(path: Path, patterns: Iterable[str]) -> bool:
    """Whether *path* matches one of *patterns* as pytest's ``python_files`` reads them: a
    pattern without a separator against the file's name, one with a separator against the
    whole path (a relative one matching at its end)."""
    for given in patterns:
        pattern, name = given, path.name
        if os.sep in given or "/" in given:
            pattern, name = given.replace("/", os.sep), str(path)
            if path.is_absolute() and not os.path.isabs(pattern):
                pattern = f"*{os.sep}{pattern}"
        if fnmatch.fnmatch(name, pattern):
            return True
    return False


def _is_chapter(file_path: Path) -> bool:
    return (
        file_path.suffix == ".py"
        and not file_path.name.startswith("_")
        and file_path.resolve().parent == CHAPTERS_DIR
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """With ``--streamspec-target``, a chapter is collected whatever the project's
    ``python_files`` (a project's own pattern that takes it in collects it as a chapter
    too: :func:`pytest_pycollect_makemodule`)."""
    if not project_target(parent.config) or not _is_chapter(file_path):
        return None
    if _matches_any(file_path, parent.config.getini("python_files")):
        return None
    return ChapterModule.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(
    module_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    if not project_target(parent.config) or not _is_chapter(module_path):
        return None
    return ChapterModule.from_parent(parent, path=module_path)


class ChapterModule(pytest.Module):
    """A chapter collected in a project's run: its checks (``check_*``) and nothing else,
    each async one run by pytest-asyncio whatever the project's ``asyncio_mode``."""

    def funcnamefilter(self, name: str) -> bool:
        return name.startswith("check_")

    def classnamefilter(self, name: str) -> bool:
        return False

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        if str(self.config.getini("asyncio_mode")) != "auto":
            for name, check in vars(self.obj).items():
                marks = getattr(check, "pytestmark", [])
                if (
                    name.startswith("check_")
                    and _is_async(check)
                    and not any(mark.name == "asyncio" for mark in marks)
                ):
                    pytest.mark.asyncio(check)
        return super().collect()


def _is_async(check: object) -> bool:
    """Whether *check* is a coroutine function, or hypothesis' wrapper of one."""
    inner = getattr(getattr(check, "hypothesis", None), "inner_test", None)
    return inspect.iscoroutinefunction(check) or inspect.iscoroutinefunction(inner)


class RuleRecorder:
    """Maps each check to its rule, records outcomes, prints and writes the rule report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rule_of: dict[str, str] = {}
        self.outcomes: dict[str, rule_report.CheckOutcome] = {}
        self.violations: dict[str, RuleViolation] = {}
        self.target: Target | None = None
        self.capabilities: Capabilities | None = None
        self.client: ClientUnderTest | None = None
        self.reports_written = False
        self.summarised = False
        self.report_lines: list[str] = []
        self.report_problems: list[str] = []
        self.started = datetime.now(UTC)
        self.clock = time.monotonic()
        self.baseline: known_failures.Baseline | None = None
        self.baselined: dict[str, known_failures.Entry] = {}
        self.stale: list[known_failures.Entry] = []
        self.curls: dict[str, str] = {}
        self.setup_error = ""

    @property
    def target_name(self) -> str:
        if self.target is None and self.client is not None:
            return self.client.name or self.client.command
        if self.target is not None:
            return self.target.label
        command = self.config.getoption("--target-command")
        name = str(command or self.config.getoption("--target") or DEFAULT_TARGET)
        prefix = self.config.getoption("--target-prefix")
        return f"{name} (prefix {prefix})" if prefix else name

    @property
    def title(self) -> str:
        """The target as the report's title names it: a command target as it ran."""
        if self.target is not None and self.target.expanded:
            return self.target.label.replace(self.target.name, self.target.expanded, 1)
        return self.target_name

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.baseline is not None:
            try:
                self.baseline.check_collected(item.nodeid for item in items)
            except known_failures.BaselineError as error:
                raise pytest.UsageError(str(error)) from error
        reported_warnings = self.config.getoption("--target-warnings") == "report"
        for item in items:
            marker = item.get_closest_marker("rule")
            if marker is not None:
                self.rule_of[item.nodeid] = str(marker.args[0])
                if reported_warnings:
                    # An item's own mark outranks the configuration's filterwarnings=error.
                    item.add_marker(pytest.mark.filterwarnings("default"))
        option = str(self.config.getoption("--rules"))
        wanted = [pattern.strip() for pattern in option.split(",") if pattern.strip()]
        if not wanted:
            return
        # In a project's run (--streamspec-target), --rules selects among the checks only.
        projects = bool(project_target(self.config))
        selected: list[pytest.Item] = []
        deselected: list[pytest.Item] = []
        for item in items:
            rule_id = self.rule_of.get(item.nodeid)
            matches = (
                projects
                if rule_id is None
                else any(fnmatch.fnmatchcase(rule_id, pattern) for pattern in wanted)
            )
            (selected if matches else deselected).append(item)
        if deselected:
            self.config.hook.pytest_deselected(items=deselected)
            items[:] = selected

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Note a check's violation and rule; a check that raised is failed even if the
        report of it cannot be made.

        Making a report formats the traceback (pytest parses the check's module)
        and runs other plugins' hooks (this wrapper is put outside them); if any
        of that raises for a rule's check that raised, the check's report is
        made here from its exception alone (with a note of what went wrong),
        instead of ending the session.
        """
        rule_id = self.rule_of.get(item.nodeid)
        try:
            rep = yield
        except Exception as failure:
            if rule_id is None or call.excinfo is None or call.excinfo.errisinstance(_SKIP):
                raise
            rep = _unformatted_report(item, call, failure)
        if rule_id is not None and rep.when == "call" and rep.passed:
            _unless_earned(rep, item, REGISTRY[rule_id])
        if rep.failed and call.excinfo is not None:
            error = call.excinfo.value
            if isinstance(error, RuleViolation):
                self.violations[item.nodeid] = error
        if rep.failed and rule_id is not None:
            self.curls.setdefault(item.nodeid, repeat.last_curl(_raised(call)))
            rule = REGISTRY[rule_id]
            rep.sections.insert(0, (f"spec rule {rule.id}", f"{rule}\nsource: {rule.source}"))
            self._unless_baselined(rep, rule_id)
        return rep

    def _unless_baselined(self, rep: pytest.TestReport, rule_id: str) -> None:
        """Report a failed check the baseline expects as an expected failure (xfail).

        pytest then counts it as it counts an xfail (its summary, ``--maxfail``, its
        own ``--junitxml`` and the exit status agree); the rule report still has it
        as a failure, marked baselined.
        """
        entry = self.baseline.entry_for(rep.nodeid, rule_id) if self.baseline else None
        if entry is None or self.baseline is None:
            return
        rep.outcome = "skipped"
        rep.wasxfail = f"{rule_report.BASELINED}: {entry.text} ({self.baseline.where(entry)})"
        self.baselined[rep.nodeid] = entry

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        witness.reset()
        repeat.reset()

    def reported(self, rule: Rule) -> bool:
        """Whether *rule* belongs in this run's report: a rule about what is under test.

        The target's rules always; the parsing chapter's only when ``--decoder``
        names a decoder, the client chapter's only when ``--client-command``
        names a client (else they judge the suite's own, not the target).
        """
        if rule.subject == DECODER:
            return self.config.getoption("--decoder") is not None
        if rule.subject == CLIENT:
            return self.config.getoption("--client-command") is not None
        return True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.rule_of:
            return
        if report.passed:
            if report.when == "call":
                self.outcomes.setdefault(
                    report.nodeid, rule_report.CheckOutcome(report.nodeid, rule_report.PASS)
                )
            return
        baselined = report.nodeid in self.baselined and hasattr(report, "wasxfail")
        if report.skipped and not baselined:
            reason = _skip_reason(report)
            outcome = rule_report.CheckOutcome(
                report.nodeid, rule_report.classify_skip(reason), reason
            )
        else:
            message = _failure_message(report)
            violation = self.violations.get(report.nodeid)
            outcome = rule_report.CheckOutcome(
                report.nodeid,
                rule_report.FAIL,
                message,
                expected=repr(violation.expected) if violation else "",
                seen=repr(violation.seen) if violation else "",
                example=rule_report.hypothesis_example(message),
                expected_value=violation.expected if violation else None,
                seen_value=violation.seen if violation else None,
                baselined=baselined,
                curl=self.curls.get(report.nodeid, ""),
            )
        previous = self.outcomes.get(report.nodeid)
        if previous is None or previous.outcome == rule_report.PASS:
            self.outcomes[report.nodeid] = outcome

    def results(self) -> list[rule_report.RuleResult]:
        by_rule: dict[str, list[rule_report.CheckOutcome]] = {}
        for nodeid, outcome in self.outcomes.items():
            by_rule.setdefault(self.rule_of[nodeid], []).append(outcome)
        rules = [rule for rule in REGISTRY.values() if self.reported(rule)]
        return rule_report.summarise(rules, by_rule)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write the JSON and HTML reports as soon as every check has ended.

        Before other plugins' session-finish hooks (one of them may raise) and
        before the terminal summary, which pytest skips after an INTERNALERROR:
        then the rule table is printed here. A report that could not be written
        makes the session's exit status an internal error; a stale entry of the
        baseline (:mod:`spec.baseline`) makes a passing session fail.
        """
        if self.baseline is not None and self.rule_of:
            self.stale = self.baseline.stale(self.results())
            if self.stale and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        self.write_reports()
        if self.report_problems and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.TESTS_FAILED,
        ):
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            terminal = self.config.pluginmanager.get_plugin("terminalreporter")
            if isinstance(terminal, pytest.TerminalReporter):
                self.pytest_terminal_summary(terminal)

    def pytest_unconfigure(self) -> None:
        """Write the reports if the session ended before :meth:`pytest_sessionfinish` could,
        and say where they went if the rule table was never printed."""
        self.write_reports()
        if not self.summarised:
            for line in self.report_lines:
                sys.stderr.write(line + "\n")

    def write_reports(self) -> None:
        """Write ``--report-json`` and ``--report-html`` once; never raises.

        Each report is written, or the reason it could not be is kept, in
        :attr:`report_lines` (printed under the rule table) and
        :attr:`report_problems`. A run that selected no rule's check writes none.
        """
        if self.reports_written or not self.rule_of:
            return
        self.reports_written = True
        try:
            report = self.json_report(self.results())
        except Exception as error:  # the reports' own bug: said, not an INTERNALERROR
            self._problem(f"the rule report could not be made: {error!r}")
            return
        path = self.config.getoption("--report-json")
        if path:
            try:
                rule_report.write_json(Path(str(path)), report)
            except Exception as error:
                self._problem(f"the rule report could not be written to {path}: {error!r}")
            else:
                self.report_lines.append(f"rule report written to {path}")
        html_path = self.config.getoption("--report-html")
        if html_path:
            try:
                html_report.write(Path(str(html_path)), [report])
            except Exception as error:
                self._problem(f"the HTML report could not be written to {html_path}: {error!r}")
            else:
                self.report_lines.append(f"HTML rule report written to {html_path}")
        junit_path = self.config.getoption("--report-junit")
        if junit_path:
            try:
                junit.write(Path(str(junit_path)), report)
            except Exception as error:
                self._problem(f"the JUnit report could not be written to {junit_path}: {error!r}")
            else:
                self.report_lines.append(f"JUnit rule report written to {junit_path}")

    def _problem(self, line: str) -> None:
        self.report_problems.append(line)
        self.report_lines.append(line)

    def json_report(self, results: list[rule_report.RuleResult]) -> dict[str, Any]:
        """The report of *results* as :func:`spec.report.to_json` makes it, for this run."""
        return rule_report.to_json(
            self.target_name,
            results,
            kind=self.target.kind
            if self.target is not None
            else html_report.CLIENT_KIND
            if self.client is not None
            else "",
            capabilities=self.capabilities.as_json() if self.capabilities else None,
            started=self.started,
            duration=time.monotonic() - self.clock,
            hypothesis=rule_report.hypothesis_run(self.config.getoption("--hypothesis-seed", None)),
            baseline=self.baseline.as_json(self.stale) if self.baseline else None,
            server=self._server(),
            command=self.target.expanded if self.target is not None else "",
            setup_error=self.setup_error,
        )

    def _server(self) -> dict[str, str] | None:
        """The server the ASGI target is served with and the HTTP version spoken, as the
        report names them."""
        if self.target is None or self.target.asgi_app is None:
            return None
        return {
            "name": self.target.server,
            "version": server_version(self.target.server),
            "http": self.target.http,
        }

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the rule report (:mod:`spec.console`): what kept the checks from running,
        each failing rule once, then the table of the rules that ran and where the reports
        went."""
        if not (self.rule_of or self.setup_error) or self.summarised:
            return
        self.summarised = True
        results = self.results()
        width = _terminal_width()
        terminalreporter.write_sep("=", f"streamspec rules: {self.title}")
        notices = console.setup_notices(
            setup_error=self.setup_error,
            capabilities=self.capabilities,
            prefix=self.target.prefix if self.target is not None else "",
            width=width,
        )
        served_at = ""
        if self.target is not None and self.target.asgi_app is not None:
            served_at = f"{self.target.name} on {self.target.server}"
        failed_rules = console.failures(results, width=width, served_at=served_at)
        for shown in [*notices, *failed_rules]:
            _write(terminalreporter, shown)
        if self.baseline is not None and self.stale:
            terminalreporter.write_line("")
            for stale in self.stale:
                line = self.baseline.stale_message(stale)
                terminalreporter.write_line(line, red=True, bold=True)
        failed = any(entry.result == rule_report.FAIL for entry in results)
        if self.target is not None and self.target.kind == COMMAND and failed:
            terminalreporter.write_sep("-", "the target command's stderr (last lines)")
            terminalreporter.write_line(self.target.stderr or "(nothing)")
        if any(entry.result != rule_report.NOT_RUN for entry in results):
            terminalreporter.write_line("")
            if self.capabilities is not None:
                described = f"capabilities: {_describe(self.capabilities)}"
                for text in textwrap.wrap(described, width, subsequent_indent="    "):
                    terminalreporter.write_line(text)
            for text in rule_report.table(results, width=width, ran_only=True):
                terminalreporter.write_line(text)
        self.write_reports()
        for text in self.report_lines:
            terminalreporter.write_line(text, red=text in self.report_problems)


def _terminal_width() -> int:
    """The terminal's width as pytest's writer takes it (80 when unknown or narrower than 40)."""
    columns = shutil.get_terminal_size(fallback=(80, 24)).columns
    return columns if columns >= 40 else 80


def _write(terminalreporter: pytest.TerminalReporter, line: console.Line) -> None:
    if line.style == console.FAILED:
        terminalreporter.write_line(line.text, red=True, bold=True)
    elif line.style == console.WARNING:
        terminalreporter.write_line(line.text, yellow=True)
    else:
        terminalreporter.write_line(line.text)


def _describe(capabilities: Capabilities) -> str:
    if capabilities.declared is None:
        return f"none declared ({capabilities.problem}): held to every stream rule"
    return ", ".join(
        f"{name}: {str(value).lower()}" for name, value in capabilities.declared.items()
    )


def _unless_earned(rep: pytest.TestReport, item: pytest.Item, rule: Rule) -> None:
    """Turn a target check's pass into *not observable* when nothing earned it.

    A check of the target passes only once it has seen the target answer a
    conformance endpoint as the surface says (:mod:`spec.witness`); a pass
    built on 404s, or on no answer at all, is not a pass.
    """
    if rule.subject != TARGET:
        return
    reason = witness.missing(capabilities_count=rule.id.startswith("SURFACE-CAP-"))
    if reason is None:
        return
    rep.outcome = "skipped"
    rep.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {NOT_OBSERVABLE}: {reason}")


def _raised(call: pytest.CallInfo[None]) -> str:
    """What *call*'s exception says, or ``""``."""
    try:
        return str(call.excinfo.value) if call.excinfo is not None else ""
    except Exception:  # an exception whose message cannot be made says nothing
        return ""


def _skip_reason(rep: pytest.TestReport) -> str:
    longrepr = rep.longrepr
    if isinstance(longrepr, tuple):
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure_message(rep: pytest.TestReport) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "")) or rep.longreprtext
    return message.strip()


_SKIP = pytest.skip.Exception


def _unformatted_report(
    item: pytest.Item, call: pytest.CallInfo[None], error: Exception
) -> pytest.TestReport:
    """The failed report of *call* (which raised) made without formatting its traceback.

    For a check whose report could not be made (*error*): the check's exception,
    its notes (hypothesis' failing example) included, and a section saying what
    went wrong.
    """
    assert call.excinfo is not None
    when = call.when
    assert when != "collect", "a check's phase, never collection"
    raised = call.excinfo.value
    try:
        shown = "".join(traceback.format_exception_only(type(raised), raised)).rstrip()
    except Exception:  # an exception whose message cannot be shown is still a failure
        shown = call.excinfo.typename
    sections = [
        (f"Captured {key} {phase}", content)
        for phase, key, content in getattr(item, "_report_sections", ())
    ]
    sections.append(("streamspec", f"the check's traceback could not be reported: {_cause(error)}"))
    return pytest.TestReport(
        item.nodeid,
        item.location,
        dict.fromkeys(item.keywords, 1),
        "failed",
        shown,
        when,
        sections,
        call.duration,
        call.start,
        call.stop,
        item.user_properties,
    )


def _cause(error: BaseException) -> str:
    """*error*, and the first exception of its chain if another: ``Type: first line``."""
    first, seen = error, {id(error)}
    while first.__context__ is not None and id(first.__context__) not in seen:
        first = first.__context__
        seen.add(id(first))
    if first is error:
        return _one_line(error)
    return f"{_one_line(error)} (first {_one_line(first)})"


def _one_line(error: BaseException) -> str:
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _recorder(config: pytest.Config) -> RuleRecorder:
    plugin = config.pluginmanager.get_plugin("streamspec-rule-recorder")
    assert isinstance(plugin, RuleRecorder)
    return plugin


def _setup_failed(config: pytest.Config, error: str) -> NoReturn:
    """End the session as a usage error: the target (or client) cannot be had. The rule
    report says so first."""
    _recorder(config).setup_error = error
    pytest.exit(error, returncode=4)


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The target under test, from ``--target`` or ``--target-command``."""
    option = request.config.getoption
    try:
        loaded = load_target(
            option("--target"),
            command=option("--target-command"),
            prefix=option("--target-prefix"),
            server=option("--server"),
            http=option("--http"),
        )
    except TargetError as error:
        _setup_failed(request.config, str(error))
    speak_http(loaded.http)
    _recorder(request.config).target = loaded
    witness.below(loaded.prefix)
    patience.track_target_stalls()
    return loaded


@pytest.fixture(scope="session")
def live_url(request: pytest.FixtureRequest, target: Target) -> Iterator[str]:
    """The target's base URL on the wire, for the session.

    An ASGI app is served by uvicorn on 127.0.0.1; a command target is started
    on a free port and stopped at the end; a URL target is used as given. A
    target that does not answer one request (:func:`spec.probe.why_silent`)
    fails every check that needs the wire, at once, with what it waited for.
    """
    try:
        with target.serve() as url:
            silent = probe_silence(url)
            if silent is not None:
                raise TargetSilent(f"the target does not answer: {silent}")
            yield url
    except TargetError as error:
        _setup_failed(request.config, str(error))


@pytest.fixture(scope="session", params=["asgi", "socket"])
def stream_client(request: pytest.FixtureRequest, target: Target) -> StreamClient:
    """A client for the target over each transport in turn: ASGI messages, then a socket.

    For a target that is not an ASGI app the ``asgi`` transport makes every
    check that uses it *not observable*, with the reason.
    """
    if request.param == "asgi":
        if target.asgi_app is None:
            reason = (
                f"ASGI messages: the target is a {target.kind} ({target.name}), not an ASGI app"
            )
            return UnobservableClient("asgi", reason)
        return AsgiClient(target.asgi_app, prefix=target.prefix)
    return SocketClient(request.getfixturevalue("live_url"))


@pytest.fixture(scope="session")
def capabilities(request: pytest.FixtureRequest, target: Target) -> Capabilities:
    """What the target declares at ``GET /conformance/capabilities`` (asked once a session)."""
    if target.asgi_app is not None:
        declared = probe_capabilities(AsgiClient(target.asgi_app, prefix=target.prefix))
    else:
        declared = probe_capabilities(SocketClient(request.getfixturevalue("live_url")))
    _recorder(request.config).capabilities = declared
    return declared


@pytest.fixture(autouse=True)
def _streamspec_stalls(request: pytest.FixtureRequest) -> None:
    """Each check's own record of a hang guard that ran out (see :class:`spec.patience.Stalls`).

    Only the spec's checks keep one: a test of the suite that calls many checks in turn
    judges each afresh.
    """
    patience.track_stalls(enabled=request.node.get_closest_marker("rule") is not None)


@pytest.fixture(autouse=True)
def _streamspec_no_cyclic_gc(request: pytest.FixtureRequest) -> Iterator[None]:
    """Python's cyclic garbage collector is off in the suite's process while a CANCEL check runs.

    A producer that its library never closes is finalized when the collector happens to
    find it (a reference cycle through the cancelled task keeps it alive), so its cleanup
    ran or not depending on allocations elsewhere: the same library passed one run and
    failed the next. With the collector off, cleanup comes from the library closing or
    cancelling the producer, or from its last reference going, or not at all.
    """
    marker = request.node.get_closest_marker("rule")
    if marker is None or not str(marker.args[0]).startswith("CANCEL-"):
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@pytest.fixture(autouse=True)
def _streamspec_capability_gate(request: pytest.FixtureRequest) -> None:
    """End a check marked ``requires(...)`` unless the target declares what it needs."""
    names = [name for marker in request.node.iter_markers(MARKER) for name in marker.args]
    if not names:
        return
    declared: Capabilities = request.getfixturevalue("capabilities")
    # A stream not served (not applicable) decides before an observation not offered.
    for name in sorted(names, key=lambda name: name not in STREAMS):
        declared.require(name)


@pytest.fixture(scope="session")
def sse_client(request: pytest.FixtureRequest) -> Iterator[ClientUnderTest]:
    """The SSE client under test (``--client-command``), and the replay server it reads."""
    replay = Replay()
    with serve(replay) as base_url:
        try:
            client = ClientUnderTest(
                str(request.config.getoption("--client-command") or DEFAULT_CLIENT),
                replay,
                base_url,
            )
        except ValueError as error:
            _setup_failed(request.config, str(error))
        _recorder(request.config).client = client
        yield client


@pytest.fixture(scope="session")
def make_decoder(request: pytest.FixtureRequest) -> DecoderFactory:
    """The factory of the SSE decoder under test (``--decoder``), the oracle by default."""
    return load_decoder(str(request.config.getoption("--decoder") or DEFAULT_DECODER))
