"""The command line: ``streamspec check``, ``clients``, ``matrix`` and ``render``.

``streamspec check http://127.0.0.1:8000`` (or ``--app mypkg.main:app``, or
``--command "node server.js --port {port}"``; an app with ``--server`` hypercorn or
granian and ``--http 2``) runs the chapters against the target
in a child pytest and exits 0 only when no rule of the chosen ``--level`` failed:
``must`` lets failing SHOULD rules pass, ``should`` (the default) counts them too.
A failure the ``--baseline`` expects does not count; a stale entry of it does.
The child prints the rule report alone, each failing rule once; ``--tracebacks``
adds pytest's traceback of each failing check.

The child runs from the current directory, which is put on ``PYTHONPATH`` (the
user's app imports from there, as ``python -m`` would import it), over the
installed chapters, with the configuration given here rather than read from any
file: no project's ``pytest.ini``, ``pyproject.toml`` or ``conftest.py`` takes
part. Options after ``--`` go to pytest as they are.

The package's own modules are named from :data:`PACKAGE`, so that the command
line follows the package if it is renamed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spec import chapters, matrix, render
from spec.targets.server import HTTP_VERSIONS, SERVERS
from spec.targets.target import address_as_url

PACKAGE = chapters.__name__.rpartition(".")[0]
"""The package's import name (``spec``): the plugin is ``PACKAGE.plugin``."""

CHAPTERS_DIR = Path(chapters.__file__).resolve().parent
ROOTDIR = CHAPTERS_DIR.parent.parent
"""The directory holding the package (site-packages, or a checkout): the checks' node ids
are then ``spec/chapters/...`` as in the repository's own runs, so baselines carry over."""

INI = {
    "python_files": "*.py",
    "python_functions": "check_*",
    "python_classes": "",
    "asyncio_mode": "auto",
    "asyncio_default_fixture_loop_scope": "function",
    "asyncio_default_test_loop_scope": "function",
    "filterwarnings": "error",
    # A hang guard only, as in the repository's configuration.
    "timeout": "120",
}
"""The configuration of the child pytest (``-o``), in place of the repository's."""

QUIET = ["-q", "--tb=no", "-rN"]
"""pytest's options for the report alone: no header, no traceback, no short summary of
the failed checks (the rule report lists each failing rule once). ``--tracebacks`` leaves
them out; options after ``--`` (``--tb=short``, ``-v``) come later and win."""

MUST, SHOULD = "must", "should"

USAGE_ERROR = 4
"""pytest's exit status for a usage error, which a bad target is too."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "matrix":
        return matrix.main(args[1:])
    if args and args[0] == "render":
        return render.main(args[1:])
    passed = args[args.index("--") + 1 :] if "--" in args else []
    options = parser().parse_args(args[: args.index("--")] if "--" in args else args)
    if options.command_name is None:
        parser().print_help(sys.stderr)
        return 2
    try:
        pytest_args = (check_args if options.command_name == "check" else clients_args)(options)
    except UsageError as error:
        print(f"streamspec {options.command_name}: {error}", file=sys.stderr)
        return USAGE_ERROR
    return run(pytest_args + passed, options)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="streamspec",
        description="Run the streamspec chapters against an HTTP streaming server or client.",
    )
    commands = top.add_subparsers(dest="command_name", metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="the spec against a server: a URL, an ASGI app (--app) or a command (--command)",
        description="Run the spec against a server and report rule by rule. "
        "Options after -- go to pytest as they are.",
    )
    check.add_argument(
        "target", nargs="?", help="the base URL of a running server, http://127.0.0.1:8000[/base]"
    )
    check.add_argument(
        "--app", help="an ASGI app importable from here, module:attribute (mypkg.main:app)"
    )
    check.add_argument(
        "--command",
        help='a command that serves on {port}, e.g. "node server.js --port {port}"',
    )
    check.add_argument("--prefix", help="the base path of the target's surface, e.g. /base")
    check.add_argument(
        "--server",
        choices=SERVERS,
        help="with --app: the server that serves it (default uvicorn; hypercorn and granian "
        "are optional installs)",
    )
    check.add_argument(
        "--http",
        choices=HTTP_VERSIONS,
        help="with --app: the protocol spoken, 1.1 (the default) or 2 (h2c with prior "
        "knowledge, on --server=hypercorn or granian)",
    )
    clients = commands.add_parser(
        "clients",
        help="the client chapter (SSE-CLIENT) against an SSE client's adapter",
        description="Run the client chapter against an SSE client: the suite serves each "
        "case, the adapter (spec/clients/protocol.py) prints what the client dispatched.",
    )
    clients.add_argument(
        "--command", required=True, help="the client's adapter, with {url} (and {python})"
    )
    for sub in (check, clients):
        sub.add_argument("--rules", help="comma-separated rule IDs or globs, e.g. SSE-ENC-*")
        sub.add_argument(
            "--level",
            choices=(MUST, SHOULD),
            default=SHOULD,
            help="the rules whose failure fails the run: must (MUST rules only) or should "
            "(MUST and SHOULD rules, the default)",
        )
        sub.add_argument("--report-json", help="write the rule report as JSON here")
        sub.add_argument("--report-html", help="write it as a self-contained HTML page")
        sub.add_argument("--junit-xml", help="write it as JUnit XML, one testcase a rule")
        sub.add_argument("--baseline", help="a file of rule IDs or check node ids known to fail")
        sub.add_argument(
            "--tracebacks",
            action="store_true",
            help="print pytest's traceback of each failing check too, and its summary of "
            "them (by default the rule report alone: each failing rule once, what was "
            "expected and seen, and a curl command that repeats the request)",
        )
    commands.add_parser(
        "matrix",
        add_help=False,
        help="several targets from a TOML file, one merged report (python -m spec.matrix)",
    )
    commands.add_parser(
        "render", add_help=False, help="write the spec's README (python -m spec.render)"
    )
    return top


class UsageError(Exception):
    """The command line cannot work; the message says what to give instead."""


def check_args(options: argparse.Namespace) -> list[str]:
    """The plugin's options naming the server *options* give."""
    named = [value for value in (options.target, options.app, options.command) if value]
    if len(named) != 1:
        raise UsageError(
            "give one target: a URL (streamspec check http://127.0.0.1:8000), "
            "--app module:attribute or --command 'CMD {port}'"
        )
    args: list[str] = []
    if options.target:
        target = str(options.target)
        if not target.startswith(("http://", "https://")):
            url = address_as_url(target)
            if url is not None:
                raise UsageError(f"{target} is an address, not a URL: streamspec check {url}")
            raise UsageError(
                f"{target} is not a URL (http://host:port): for an ASGI app, "
                f"streamspec check --app {target}"
            )
        args.append(f"--target={target}")
    elif options.app:
        args.append(f"--target={options.app}")
    else:
        args.append(f"--target-command={options.command}")
    if options.prefix:
        args.append(f"--target-prefix={options.prefix}")
    for option in ("server", "http"):
        value = getattr(options, option)
        if value and not options.app:
            raise UsageError(f"--{option} chooses how an ASGI app is served: give it with --app")
        if value:
            args.append(f"--{option}={value}")
    if options.rules:
        args.append(f"--rules={options.rules}")
    return args


def clients_args(options: argparse.Namespace) -> list[str]:
    """The plugin's options running the client chapter against *options*' adapter."""
    return [f"--client-command={options.command}", f"--rules={options.rules or 'SSE-CLIENT-*'}"]


def pytest_command(args: Sequence[str]) -> list[str]:
    """The child pytest over the installed chapters, configured here and nowhere else.

    ``-c`` of the null device: no ini file is read (and ``--rootdir`` is not left to be
    found from one); ``--noconftest``: no ``conftest.py`` of the checkout or the user's.
    """
    command = [
        sys.executable, "-m", "pytest", str(CHAPTERS_DIR),
        "-p", f"{PACKAGE}.plugin", "-p", "no:cacheprovider",
        "-c", os.devnull, f"--rootdir={ROOTDIR}", "--noconftest", "--strict-markers",
    ]  # fmt: skip
    for name, value in INI.items():
        command += ["-o", f"{name}={value}"]
    return [*command, *args]


def run(args: list[str], options: argparse.Namespace) -> int:
    """Run the child pytest with *args*; its exit status, or the level's verdict on its
    rule report when the checks ran."""
    for option, flag in (
        ("report_html", "--report-html"),
        ("junit_xml", "--report-junit"),
        ("baseline", "--baseline"),
    ):
        value = getattr(options, option)
        if value:
            args.append(f"{flag}={value}")
    if not options.tracebacks:
        args[:0] = QUIET
    here = os.getcwd()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    # The run's report is read back for the verdict; without --report-json it is kept
    # where the run says it wrote it, a directory of its own under the temporary one.
    report_path = Path(
        options.report_json or Path(tempfile.mkdtemp(prefix="streamspec-"), "report.json")
    )
    command = pytest_command([*args, f"--report-json={report_path}"])
    status = subprocess.run(command, cwd=here, env=env, check=False).returncode
    if status not in (0, 1) or not report_path.exists():
        return status
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return verdict(report, options.level)


def verdict(report: dict[str, Any], level: str) -> int:
    """0 when no rule of *level* failed (a failure the baseline expects aside) and the
    baseline has no stale entry, else 1."""
    counted = {"MUST"} if level == MUST else {"MUST", "SHOULD"}
    failed = [
        rule["id"]
        for rule in report["rules"]
        if rule["result"] == "fail" and not rule["baselined"] and rule["level"] in counted
    ]
    baseline = report.get("baseline") or {}
    return 1 if failed or baseline.get("stale") else 0


if __name__ == "__main__":
    raise SystemExit(main())
