"""Declared capabilities decide what applies and what is observable, never failures.

The declaration is read (``spec.capabilities.parse``), required by checks
(``Capabilities.require``), checked by ``SURFACE-CAP-01``, and used by a child
run: a target that declares ``sse: false`` has its SSE rules reported not
applicable; a target that declares nothing is held to every rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from impl.app import create_app
from spec.capabilities import Capabilities, parse, requires
from spec.chapters import surface as surface_chapter
from spec.rules import RuleViolation
from spec.surface import CAPABILITIES_PATH
from spec.targets.client import AsgiClient
from tests.run_suite import run_spec

DECLARED = {"sse": True, "text": False, "files": False, "observe": False}


def capabilities_app(answer: object, status: int = 200) -> Starlette:
    """An app whose capabilities endpoint answers *answer* (JSON) with *status*."""

    async def capabilities(request: Request) -> Response:
        return JSONResponse(answer, status_code=status)

    return Starlette(routes=[Route(CAPABILITIES_PATH, capabilities)])


def skip_message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return str(excinfo.value.msg) if hasattr(excinfo.value, "msg") else str(excinfo.value)


def test_a_declaration_is_read_as_given() -> None:
    declared = parse(200, json.dumps(DECLARED).encode())
    assert declared.as_json() == DECLARED
    assert declared.offers("sse")
    assert not declared.offers("text")
    assert not declared.offers("comments"), "an absent member means false"


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (404, b"Not Found", "status 404"),
        (200, b"not json", "not JSON"),
        (200, b"[true]", "not a JSON object"),
        (200, b'{"sse": "yes"}', "not booleans"),
    ],
)
def test_no_usable_declaration_holds_the_target_to_every_stream(
    status: int, body: bytes, problem: str
) -> None:
    declared = parse(status, body)
    assert declared.declared is None
    assert problem in declared.problem
    assert all(declared.offers(name) for name in ("sse", "text", "files", "comments"))
    assert not declared.offers("observe")


def test_hold_is_its_own_capability_and_idle_implies_it() -> None:
    """A library that holds a stream but cannot set its keep-alive interval (FastAPI) is held
    to the shutdown rules (``hold``) without the keep-alive ones (``idle``)."""
    assert Capabilities({"sse": True, "hold": True}).offers("hold")
    assert not Capabilities({"sse": True, "hold": True}).offers("idle")
    assert Capabilities({"idle": True}).offers("hold"), "declared before hold existed"
    assert not Capabilities({"idle": True, "hold": False}).offers("hold")
    assert not Capabilities({"sse": True}).offers("hold")


def test_a_stream_declared_false_makes_the_check_not_applicable() -> None:
    with pytest.raises(pytest.skip.Exception) as excinfo:
        Capabilities(DECLARED).require("text")
    assert skip_message(excinfo).startswith("not applicable: the target declares text: false")


def test_an_observation_not_offered_makes_the_check_not_observable() -> None:
    with pytest.raises(pytest.skip.Exception) as excinfo:
        Capabilities(DECLARED).require("observe")
    assert skip_message(excinfo).startswith("not observable: the target offers no 'observe'")
    with pytest.raises(pytest.skip.Exception) as excinfo:
        Capabilities(None, "status 404").require("observe")
    assert skip_message(excinfo).startswith("not observable:")


def test_a_declared_capability_lets_the_check_run() -> None:
    Capabilities(DECLARED).require("sse")
    Capabilities(None, "status 404").require("files")


def test_requires_knows_the_capability_names() -> None:
    assert requires("sse", "observe").args == ("sse", "observe")
    with pytest.raises(ValueError, match="unknown capabilities"):
        requires("sse", "websockets")


async def test_the_capabilities_check_passes_on_the_reference_app() -> None:
    await surface_chapter.check_capabilities_are_declared(stream_client=AsgiClient(create_app()))


@pytest.mark.parametrize(
    ("answer", "status"),
    [(DECLARED, 404), (["sse"], 200), ({"sse": 1}, 200), ({"sse": "true"}, 200)],
)
async def test_the_capabilities_check_fails_without_a_declaration(
    answer: object, status: int
) -> None:
    with pytest.raises(RuleViolation, match="JSON object of booleans"):
        await surface_chapter.check_capabilities_are_declared(
            stream_client=AsgiClient(capabilities_app(answer, status))
        )


def test_a_target_declaring_no_sse_gets_sse_rules_not_applicable(tmp_path: Path) -> None:
    """Starlette alone serves text, not SSE: every SSE rule is not applicable, none failed."""
    run = run_spec(
        tmp_path, "--rules=SSE-ENC-*,SURFACE-*", "--target=peers.starlette_streaming:app"
    )
    results = run.results()
    assert run.returncode == 0, run.output
    assert {results[f"SSE-ENC-{n:02}"] for n in range(1, 13)} == {"not applicable"}
    assert results["SURFACE-SSE-01"] == "not applicable"
    assert results["SURFACE-TEXT-01"] == "pass"
    assert run.report["capabilities"]["sse"] is False
    assert "capabilities: sse: false, text: true" in run.output


def test_a_target_declaring_nothing_is_held_to_every_rule(tmp_path: Path) -> None:
    """Without a declaration nothing is excused: the SSE rule is judged (and fails)."""
    run = run_spec(
        tmp_path, "--rules=SSE-ENC-02,SURFACE-CAP-01", "--target=tests.broken.handmade_framing:app"
    )
    assert run.failing() == {"SSE-ENC-02", "SURFACE-CAP-01"}
    assert run.report["capabilities"] is None
    assert "capabilities: none declared (status 404)" in run.output
