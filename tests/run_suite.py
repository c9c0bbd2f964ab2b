"""Run the spec in a child pytest, as a user would, and read its JSON rule report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import jsonschema

from spec.report import SCHEMA

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SuiteRun:
    returncode: int
    output: str
    report: dict[str, Any]

    def results(self) -> dict[str, str]:
        """``{rule ID: result}`` for every rule in the report."""
        return {rule["id"]: rule["result"] for rule in self.report["rules"]}

    def failing(self) -> set[str]:
        return {rule_id for rule_id, result in self.results().items() if result == "fail"}

    def checks(self, rule_id: str, outcome: str = "fail") -> dict[str, str]:
        """``{check name: message}`` of *rule_id*'s checks that came to *outcome*."""
        rule = next(rule for rule in self.report["rules"] if rule["id"] == rule_id)
        return {
            check["nodeid"].split("::")[-1]: check["message"]
            for check in rule["checks"]
            if check["outcome"] == outcome
        }


def run_spec(tmp_path: Path, *options: str, env: Mapping[str, str] = {}) -> SuiteRun:
    """``pytest spec OPTIONS --report-json=...`` in a child process, from the repository root.

    The report is validated against the schema (:func:`validate`) before it is returned.
    *env* adds to (or overrides) the variables the child inherits.
    """
    report_path = tmp_path / "report.json"
    command = [
        sys.executable, "-m", "pytest", "spec", "-q", "-p", "no:cacheprovider",
        f"--report-json={report_path}", *options,
    ]  # fmt: skip
    child_env = {
        **os.environ,
        "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci"),
        # Broken targets never clean up: do not wait the full ten seconds for them.
        "STREAMSPEC_HANG_GUARD": "2",
        **env,
    }
    completed = subprocess.run(
        command, cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=600, check=False
    )
    output = completed.stdout + completed.stderr
    if not report_path.exists():
        raise AssertionError(f"the run wrote no report:\n{output}")
    report = json.loads(report_path.read_text())
    validate(report)
    return SuiteRun(completed.returncode, output, report)


def validate(report: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless *report* is what ``spec/report.schema.json``
    describes."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(report)


def assert_allowed_passes(tmp_path: Path, target: str, rules: str) -> None:
    """``pytest spec --rules=RULES --target=TARGET`` passes every rule *rules* matches (none
    fails, none is skipped for want of an answer), as an implementation that reads the
    spec another way than the reference must (``tests/allowed/``)."""
    run = run_spec(tmp_path, f"--rules={rules}", f"--target={target}")
    patterns = rules.split(",")
    results = {r: v for r, v in run.results().items() if any(fnmatchcase(r, p) for p in patterns)}
    assert results, run.output
    assert {rule: result for rule, result in results.items() if result != "pass"} == {}, run.output
    assert run.returncode == 0, run.output
