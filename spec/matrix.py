"""Run the spec against several targets and merge the reports into one matrix.

::

    python -m spec.matrix peers/matrix.toml --out reports/matrix
    python -m spec.matrix peers/clients.toml --out reports/clients
    python -m spec.matrix --merge a.json b.json --out reports/matrix

The first form reads a list of targets (TOML: ``[[targets]]`` with ``label``,
``target`` or ``command``, and optionally ``library``, ``prefix``, the base
path of the target's surface, as ``--target-prefix``, ``server``, as ``--server``
(uvicorn, hypercorn or granian, for an app), ``http``, as ``--http`` (``"2"`` for
h2c with prior knowledge), and ``intermittent``, the
rules known to pass in some runs and fail in others on that target, whose cells
read ``intermittent`` whatever this run saw, so the README's table is the same
from run to run; the README says why for each), runs the chapters
once per target in a child process (each writes its own JSON and HTML report
into the output folder), and merges them; a top-level ``section`` names the
README's section the matrix is checked against (``--readme``). The second does the same for SSE
clients (``[[clients]]``): each has a ``client`` (an adapter command, as
``--client-command``) instead, and only the client chapter (``SSE-CLIENT-*``)
is run; instead of ``library`` such an entry may name ``npm``, an npm package as
``DIR:NAME`` (DIR, relative to the current directory, holds the
``package-lock.json`` whose version of NAME the label shows). The third merges JSON
reports already written (``--clients`` for client reports). Either way the
output folder gets:

* ``matrix.json``: the targets, and for each rule its result on each target,
  with the full per-target reports (failures, minimal examples) beside;
* ``matrix.html``: the matrix as a self-contained page (:mod:`spec.html_report`);
* ``matrix.md``: the matrix as a Markdown table, the one the README shows; under
  the totals, how many rules each target is judged on of those its library can
  express (:func:`depth`; not for clients).

``--readme=README.md`` compares the README's matrix (between the markers
``<!-- matrix:start -->`` and ``<!-- matrix:end -->``, or ``<!-- clients:start -->``
and ``<!-- clients:end -->`` for clients) with ``matrix.md`` and exits non-zero
if they differ; ``--update-readme`` rewrites it instead.

The exit status is 0 when every target ran to its end, whatever the rules'
results: the matrix reports failures, it does not fail on them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from spec import chapters, cli, html_report
from spec.capabilities import UNDECLARED
from spec.report import (
    ABOUT_CLIENT,
    ABOUT_DECODER,
    FAIL,
    INAPPLICABLE,
    LABELS,
    NOT_RUN,
    PARTIAL,
    PASS,
    UNOBSERVED,
    tally_line,
)

START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"
CLIENTS_START, CLIENTS_END = "<!-- clients:start -->", "<!-- clients:end -->"

NOTE = (
    "Rules about the target only: the parsing chapter (SSE-PARSE-*) judges the suite's "
    "own SSE decoder, the same for every target, and is left out."
)
CLIENTS_NOTE = (
    "The client chapter (SSE-CLIENT-*): each column is an SSE client, reached through its "
    "adapter, reading the streams the suite replays."
)
CLIENT_CHAPTER = str(Path(chapters.__file__).resolve().parent / "sse_client.py")

INTERMITTENT = "intermittent"
"""A matrix cell's result for a rule listed as ``intermittent`` for its target."""

_CELL = {
    INTERMITTENT: "**intermittent**",
    PASS: "pass",
    FAIL: "**fail**",
    PARTIAL: LABELS[PARTIAL],
    UNOBSERVED: "not observable",
    INAPPLICABLE: "n/a",
    NOT_RUN: "not run",
}


@dataclass(frozen=True)
class MatrixTarget:
    """One column of the matrix: how to reach the target, and what to call it."""

    label: str
    target: str | None = None
    command: str | None = None
    client: str | None = None
    library: str | None = None
    npm: str | None = None
    prefix: str | None = None
    server: str | None = None
    http: str | None = None
    intermittent: tuple[str, ...] = ()

    def options(self) -> list[str]:
        """The child pytest's arguments: what to collect, and how to reach the target."""
        if self.client is not None:
            return [f"--client-command={self.client}", "--rules=SSE-CLIENT-*"]
        where = [f"--ignore={CLIENT_CHAPTER}"]
        if self.prefix is not None:
            where.append(f"--target-prefix={self.prefix}")
        if self.server is not None:
            where.append(f"--server={self.server}")
        if self.http is not None:
            where.append(f"--http={self.http}")
        if self.command is not None:
            return [*where, f"--target-command={self.command}"]
        assert self.target is not None
        return [*where, f"--target={self.target}"]

    def version(self) -> str:
        """The installed version of :attr:`library` (or :attr:`npm`'s locked one), or ``""``."""
        if self.npm is not None:
            return npm_version(self.npm)
        if self.library is None:
            return ""
        try:
            return metadata.version(self.library)
        except metadata.PackageNotFoundError:
            return ""


def npm_version(package: str) -> str:
    """The version of ``DIR:NAME`` in ``DIR/package-lock.json``, or ``""`` without one."""
    folder, _, name = package.rpartition(":")
    lock = Path(folder) / "package-lock.json"
    try:
        packages = json.loads(lock.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError):
        return ""
    return str(packages.get(f"node_modules/{name}", {}).get("version", ""))


def load_targets(path: Path) -> list[MatrixTarget]:
    """The targets listed in a TOML file (see the module docstring)."""
    listing = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = [*listing.get("targets", []), *listing.get("clients", [])]
    targets = []
    for entry in entries:
        if sum(key in entry for key in ("target", "command", "client")) != 1:
            raise ValueError(
                f"{path}: {entry.get('label')!r} needs exactly one of target, command, client"
            )
        if "prefix" in entry and "client" in entry:
            raise ValueError(f"{path}: {entry.get('label')!r}: a client has no prefix")
        targets.append(
            MatrixTarget(
                label=str(entry["label"]),
                target=entry.get("target"),
                command=entry.get("command"),
                client=entry.get("client"),
                library=entry.get("library"),
                npm=entry.get("npm"),
                prefix=None if entry.get("prefix") is None else str(entry["prefix"]),
                server=None if entry.get("server") is None else str(entry["server"]),
                http=None if entry.get("http") is None else str(entry["http"]),
                intermittent=tuple(str(rule) for rule in entry.get("intermittent", ())),
            )
        )
    return targets


def slug(label: str) -> str:
    """A file name for *label*."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "target"


def run_target(entry: MatrixTarget, out: Path, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Run the chapters against *entry* from the current directory (where its modules
    import from), as ``streamspec check`` does; return its JSON report, labelled."""
    name = slug(entry.label)
    json_path, html_path = out / f"{name}.json", out / f"{name}.html"
    json_path.unlink(missing_ok=True)
    command = cli.pytest_command(
        ["-q", f"--report-json={json_path}", f"--report-html={html_path}", *entry.options(), *extra]
    )
    env = {**os.environ, "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci")}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    (out / f"{name}.log").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    if not json_path.exists():
        raise RuntimeError(
            f"{entry.label}: the run wrote no report (exit {completed.returncode}); "
            f"see {out / (name + '.log')}:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
    report: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
    version = entry.version()
    report["label"] = f"{entry.label} {version}".strip()
    report["library"] = entry.library or entry.npm
    report["version"] = version
    return report


def merge(
    reports: Sequence[dict[str, Any]],
    *,
    clients: bool = False,
    intermittent: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Any]:
    """One matrix of *reports*: targets, and each rule's result on each target.

    *intermittent* names, by target label, the rules whose pass or fail on that
    target is shown as :data:`INTERMITTENT` (the per-target reports keep the run's
    result), and counted so in the target's totals.

    Rules whose checks judge the SSE decoder rather than the target (the
    parsing chapter) are left out: their result does not depend on the target.
    So are rules no target ran (``--rules`` left them out). With *clients*, the
    reports are of SSE clients, and only the rules about clients are kept.
    """
    labels = [str(report.get("label") or report["target"]) for report in reports]
    rules: dict[str, dict[str, Any]] = {}
    marked: dict[str, list[str]] = {label: [] for label in labels}
    for label, report in zip(labels, reports, strict=True):
        unstable = set((intermittent or {}).get(label, ()))
        for rule in report["rules"]:
            row = rules.setdefault(
                rule["id"],
                {
                    "id": rule["id"],
                    "level": rule["level"],
                    "statement": rule["statement"],
                    "about": rule.get("about", ""),
                    "results": {},
                },
            )
            result = rule["result"]
            if rule["id"] in unstable and result in (PASS, FAIL):
                marked[label].append(result)
                result = INTERMITTENT
            row["results"][label] = result
    for row in rules.values():
        for label in labels:
            row["results"].setdefault(label, NOT_RUN)
    rules = {
        rule_id: row
        for rule_id, row in rules.items()
        if _kept(row["about"], clients=clients) and set(row["results"].values()) != {NOT_RUN}
    }
    reports = [html_report.only(report, rules) for report in reports]
    return {
        "clients": clients,
        "targets": [
            {
                "label": label,
                "target": report["target"],
                "kind": report.get("kind", ""),
                "capabilities": report.get("capabilities"),
                "totals": _marked_totals(report.get("totals", {}), marked[label]),
                "depth": depth(report, reports[0]) if reports and not clients else None,
            }
            for label, report in zip(labels, reports, strict=True)
        ],
        "rules": list(rules.values()),
        "reports": list(reports),
    }


def depth(report: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, int]:
    """How deeply *report*'s target is judged, against *baseline* (the matrix's first
    column, the reference): of the rules judged on the baseline (a pass, a fail or a
    pass*), ``no_api`` are those whose every check is not applicable because the target
    declares the capability false (its library has no API for that kind of stream);
    ``expressible`` are the others, and ``judged`` those of them judged on the target
    (neither not applicable nor not observable; a rule about HTTP/1.1 framing over
    HTTP/2 is among those not judged). The Markdown table shows it as its last row,
    "judged, of the rules its API can express".
    """
    judged_results = {PASS, FAIL, PARTIAL}
    on_baseline = {rule["id"] for rule in baseline["rules"] if rule["result"] in judged_results}
    no_api = expressible = judged = 0
    for rule in report["rules"]:
        if rule["id"] not in on_baseline:
            continue
        checks = rule.get("checks", [])
        if checks and all(
            check["outcome"] == INAPPLICABLE and UNDECLARED in check.get("message", "")
            for check in checks
        ):
            no_api += 1
            continue
        expressible += 1
        judged += rule["result"] in judged_results or rule["result"] == INTERMITTENT
    return {"no_api": no_api, "expressible": expressible, "judged": judged}


def _marked_totals(counts: dict[str, int], replaced: list[str]) -> dict[str, int]:
    """*counts* with each result of *replaced* counted as :data:`INTERMITTENT` instead."""
    marked = dict(counts)
    for result in replaced:
        marked[result] = marked.get(result, 0) - 1
        if marked[result] <= 0:
            del marked[result]
        marked[INTERMITTENT] = marked.get(INTERMITTENT, 0) + 1
    return marked


def _kept(about: str, *, clients: bool) -> bool:
    if clients:
        return about == ABOUT_CLIENT
    return about not in (ABOUT_DECODER, ABOUT_CLIENT)


def markdown(matrix: dict[str, Any]) -> str:
    """The matrix as a Markdown table (rules by targets), with a totals row."""
    labels = [target["label"] for target in matrix["targets"]]
    lines = [
        "| rule | level | " + " | ".join(labels) + " |",
        "| --- | --- | " + " | ".join("---" for _ in labels) + " |",
    ]
    for row in matrix["rules"]:
        cells = " | ".join(_CELL[row["results"][label]] for label in labels)
        lines.append(f"| {row['id']} | {row['level']} | {cells} |")
    totals = [_tally(target["totals"]) for target in matrix["targets"]]
    lines.append("| **totals** | | " + " | ".join(totals) + " |")
    depths = [target.get("depth") for target in matrix["targets"]]
    if depths and all(depths):
        cells = " | ".join(f"{each['judged']} of {each['expressible']}" for each in depths)
        lines.append(f"| **judged, of the rules its API can express** | | {cells} |")
    return "\n".join(lines) + "\n"


def _tally(counts: dict[str, int]) -> str:
    parts = [tally_line(counts)] if tally_line(counts) else []
    if counts.get(INTERMITTENT):
        parts.append(f"{counts[INTERMITTENT]} {INTERMITTENT}")
    return ", ".join(parts)


def write(matrix: dict[str, Any], out: Path) -> None:
    """Write ``matrix.json``, ``matrix.html`` and ``matrix.md`` into *out*."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "matrix.json").write_text(
        json.dumps(matrix, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if matrix.get("clients"):
        title = f"streamspec client matrix: {len(matrix['reports'])} SSE clients"
        html_report.write(out / "matrix.html", matrix["reports"], title=title, note=CLIENTS_NOTE)
    else:
        html_report.write(out / "matrix.html", matrix["reports"], note=NOTE)
    (out / "matrix.md").write_text(markdown(matrix), encoding="utf-8")


def _markers(clients: bool, section: str | None = None) -> tuple[str, str]:
    if section is not None:
        return f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    return (CLIENTS_START, CLIENTS_END) if clients else (START, END)


def _find_section(text: str, clients: bool, section: str | None = None) -> tuple[int, int, str]:
    opening, closing = _markers(clients, section)
    start, end = text.find(opening), text.find(closing)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {opening} ... {closing} section")
    return start + len(opening), end, opening


def readme_section(text: str, *, clients: bool = False, section: str | None = None) -> str:
    """The matrix between the README's markers (raise ValueError if they are missing):
    ``<!-- SECTION:start -->`` and ``<!-- SECTION:end -->``, *section* by default
    ``matrix`` (``clients`` with *clients*)."""
    start, end, _ = _find_section(text, clients, section)
    return text[start:end].strip("\n") + "\n"


def replace_readme_section(
    text: str, table: str, *, clients: bool = False, section: str | None = None
) -> str:
    start, end, _ = _find_section(text, clients, section)
    return text[:start] + "\n" + table + text[end:]


def load_section(path: Path) -> str | None:
    """The README section a TOML file of targets names (its top-level ``section``)."""
    value = tomllib.loads(path.read_text(encoding="utf-8")).get("section")
    return None if value is None else str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spec.matrix",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("targets", nargs="?", type=Path, help="TOML file listing the targets")
    parser.add_argument("--merge", nargs="+", type=Path, default=[], help="JSON reports to merge")
    parser.add_argument("--out", type=Path, default=Path("reports/matrix"), help="output folder")
    parser.add_argument("--readme", type=Path, help="check that this README shows the matrix")
    parser.add_argument("--update-readme", action="store_true", help="rewrite its matrix instead")
    parser.add_argument(
        "--clients", action="store_true", help="the reports are of SSE clients (with --merge)"
    )
    parser.add_argument(
        "--section",
        help="the README's section for this matrix, between <!-- SECTION:start --> and "
        "<!-- SECTION:end --> (default: the TOML file's `section`, else matrix or clients)",
    )
    parser.epilog = "Options after -- go to each pytest run, e.g. -- --rules=SSE-ENC-*"
    args = list(sys.argv[1:] if argv is None else argv)
    pytest_args = args[args.index("--") + 1 :] if "--" in args else []
    options = parser.parse_args(args[: args.index("--")] if "--" in args else args)
    if (options.targets is None) == (not options.merge):
        parser.error("give a TOML file of targets, or --merge with JSON reports")
    reports: list[dict[str, Any]] = []
    unstable: dict[str, tuple[str, ...]] = {}
    clients = bool(options.clients)
    section: str | None = options.section
    if options.targets is not None:
        section = section or load_section(options.targets)
        entries = load_targets(options.targets)
        kinds = {entry.client is not None for entry in entries}
        if len(kinds) > 1:
            parser.error(f"{options.targets}: list servers or clients, not both")
        clients = kinds == {True}
        options.out.mkdir(parents=True, exist_ok=True)
        for number, entry in enumerate(entries, 1):
            print(f"[{number}/{len(entries)}] {entry.label} ...", end=" ", flush=True)
            report = run_target(entry, options.out, pytest_args)
            print(tally_line(report.get("totals", {})))
            reports.append(report)
            unstable[str(report["label"])] = entry.intermittent
    else:
        reports = [json.loads(path.read_text(encoding="utf-8")) for path in options.merge]
    matrix = merge(reports, clients=clients, intermittent=unstable)
    write(matrix, options.out)
    print(f"matrix written to {options.out}/matrix.json, matrix.html and matrix.md")
    if options.readme is not None:
        return _check_readme(
            options.readme, matrix, update=options.update_readme, clients=clients, section=section
        )
    return 0


def _check_readme(
    path: Path,
    matrix: dict[str, Any],
    *,
    update: bool,
    clients: bool,
    section: str | None = None,
) -> int:
    table = markdown(matrix)
    text = path.read_text(encoding="utf-8")
    shown = readme_section(text, clients=clients, section=section)
    if shown == table:
        print(f"{path} shows this matrix")
        return 0
    if update:
        replaced = replace_readme_section(text, table, clients=clients, section=section)
        path.write_text(replaced, encoding="utf-8")
        print(f"{path}: matrix updated")
        return 0
    print(f"{path} shows another matrix than this run's.")
    for line in changed_cells(shown, matrix):
        print(line)
    print(f"\nThe run's matrix:\n\n{table}")
    return 1


def _table_cells(table: str) -> dict[tuple[str, str], str]:
    """The cells of a Markdown matrix (:func:`markdown`'s form), by (rule, label); the
    totals rows are left out."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in table.splitlines()
        if line.startswith("|")
    ]
    if not rows:
        return {}
    labels = rows[0][2:]
    return {
        (row[0], label): cell
        for row in rows[2:]
        if not row[0].startswith("**")
        for label, cell in zip(labels, row[2:], strict=False)
    }


def changed_cells(shown: str, matrix: dict[str, Any]) -> list[str]:
    """Each cell of *matrix* that differs from the Markdown table *shown* (a README's), as
    a line: the rule, the target, both verdicts, and what this run's checks of that rule
    said (their messages), so that a CI log tells why a verdict changed without the
    reports. Cells, rules or targets only one side has are lines too."""
    before = _table_cells(shown)
    now = _table_cells(markdown(matrix))
    reports = {
        str(target["label"]): report
        for target, report in zip(matrix["targets"], matrix["reports"], strict=True)
    }
    lines: list[str] = []
    for key in sorted(before.keys() | now.keys()):
        was, is_now = before.get(key, "(absent)"), now.get(key, "(absent)")
        if was == is_now:
            continue
        rule_id, label = key
        lines.append(f"- {rule_id} on {label}: the README shows {was}, this run {is_now}")
        rules = reports.get(label, {}).get("rules", [])
        for rule in rules:
            if rule["id"] != rule_id:
                continue
            for check in rule.get("checks", []):
                message = " ".join(str(check.get("message", "")).split())
                if message:
                    where = f"{check.get('nodeid', '')} ({check.get('outcome', '')})"
                    lines.append(f"    {where}: {message[:600]}")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
