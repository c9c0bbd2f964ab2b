"""A failing check ends as a failing rule with its report, on every supported CPython (issue 11).

On CPython 3.11.7, 5 runs in 8 of the FILE chapter against a target that fails
on a NUL in the path ended in ``INTERNALERROR> SystemError: AST constructor
recursion depth mismatch``: the suite's uvicorn thread logged the target's
traceback (``traceback`` parses each line with ``ast.parse`` for its carets)
while the main thread formatted the failing check (pytest parses the chapter
with ``ast.parse``), and that CPython's AST constructor shares one depth counter
between threads. :mod:`spec.threadsafe_ast` serialises the parses; the plugin
writes the report even when making a check's report raises.

These tests are not "meta": they run in each tox environment, so on each
installed CPython.
"""

from __future__ import annotations

import ast
import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spec import threadsafe_ast
from tests import crashing_report_hook
from tests.run_suite import run_spec

NUL_TARGET = "--target=tests.broken.nul_path:app"
NAME_RULES = "--rules=FILE-NAME-01,FILE-NAME-02"


def test_failing_property_check_against_a_raising_target_is_a_failing_rule(
    tmp_path: Path,
) -> None:
    """The run of issue 11 (FILE-NAME-02 is the property check): the rules fail, the report
    is written, and nothing is an internal error."""
    run = run_spec(tmp_path, NAME_RULES, NUL_TARGET)
    assert "INTERNALERROR" not in run.output, run.output
    assert run.returncode == 1, run.output
    assert run.results()["FILE-NAME-01"] == "fail"
    assert run.results()["FILE-NAME-02"] == "fail"
    assert "Failing test case" in run.output, "hypothesis' minimal example is shown"
    messages = run.checks("FILE-NAME-02").values()
    assert all("seen:     500" in message for message in messages), messages


def test_a_check_whose_report_cannot_be_made_is_still_a_failing_rule(tmp_path: Path) -> None:
    """Another plugin's report hook raises for every failed check: each still fails its rule,
    with its violation and hypothesis' example, and the JSON report is written."""
    run = run_spec(tmp_path, NAME_RULES, NUL_TARGET, "-p", "tests.crashing_report_hook")
    assert "INTERNALERROR" not in run.output, run.output
    assert run.returncode == 1, run.output
    assert run.failing() >= {"FILE-NAME-01", "FILE-NAME-02"}
    property_checks = run.checks("FILE-NAME-02")
    assert len(property_checks) == 2, "one a transport"
    for message in property_checks.values():
        assert "expected: '404 or 400'" in message
        assert "Failing test case" in message
    rule = next(rule for rule in run.report["rules"] if rule["id"] == "FILE-NAME-02")
    assert all(check["seen"] == 500 for check in rule["checks"]), "a JSON value, not a repr"
    assert "the check's traceback could not be reported" in run.output
    assert crashing_report_hook.MESSAGE in run.output, "what went wrong is said"


def _parse_while_another_thread_parses(parse: Callable[..., Any]) -> tuple[int, list[str]]:
    """Parse a large module while, at each of its first garbage collections, another thread
    runs *parse* from a deeper call stack. Returns the number of collections that let the
    other thread in and the ``SystemError``\\ s of either thread."""
    source = "\n".join(f"x{i} = f(a, b)[c] + g(d, *e)" for i in range(3000))
    go, done = threading.Event(), threading.Event()
    errors: list[str] = []
    finished = False

    def other() -> None:
        def deeper(levels: int) -> None:
            if levels:
                deeper(levels - 1)
                return
            try:
                parse("f(x)[y]")
            except SystemError as error:
                errors.append(f"other thread: {error}")

        while True:
            go.wait()
            go.clear()
            if finished:
                return
            deeper(30)
            done.set()

    collections = 0

    def collecting(phase: str, info: dict[str, int]) -> None:
        nonlocal collections
        if phase == "start" and collections < 3:
            collections += 1
            go.set()
            # Serialised, the other thread waits for this parse: do not wait for it here.
            done.wait(0.2)
            done.clear()

    thread = threading.Thread(target=other, name="ast-race", daemon=True)
    thread.start()
    gc.callbacks.append(collecting)
    try:
        parse(source)
    except SystemError as error:
        errors.append(f"main thread: {error}")
    finally:
        gc.callbacks.remove(collecting)
        finished = True
        go.set()
        thread.join(30)
    return collections, errors


def test_parses_in_two_threads_do_not_fail() -> None:
    """The cause, shown in-process: the plugin has serialised ``ast.parse`` where CPython
    needs it, and two threads' parses then both succeed; on those CPythons the parse
    without the lock fails as issue 11 did."""
    assert threadsafe_ast.install() == threadsafe_ast.affected()
    collections, errors = _parse_while_another_thread_parses(ast.parse)
    assert collections > 0, "a garbage collection let the other thread in"
    assert errors == []
    if threadsafe_ast.affected():
        unlocked = getattr(ast.parse, "__wrapped__")  # noqa: B009 -- set by functools.wraps
        _, errors = _parse_while_another_thread_parses(unlocked)
        assert any("recursion depth mismatch" in error for error in errors), errors


def test_affected_versions() -> None:
    """Only CPython 3.11 before 3.11.8 interleaves two threads' AST constructions."""
    assert threadsafe_ast.affected((3, 11, 7))
    assert threadsafe_ast.affected((3, 11, 0))
    assert not threadsafe_ast.affected((3, 11, 8))
    assert not threadsafe_ast.affected((3, 12, 1))
    assert not threadsafe_ast.affected((3, 13, 0))
