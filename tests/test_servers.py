"""``--server``: an ASGI target served on the wire by uvicorn, hypercorn or granian.

Each server really serves (its own ``Server`` header answers), the option is refused
where it cannot apply, and a run names its server in the report. The verdicts of the
reference on each server are the server matrix's business (issue 15), not these tests'.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from impl.app import app
from spec.targets.server import SERVERS, serve
from spec.targets.target import TargetError, load_target
from tests.run_suite import run_spec

SERVER_HEADER = {"uvicorn": "uvicorn", "hypercorn": "hypercorn-h11", "granian": "granian"}


@pytest.mark.parametrize("server", SERVERS)
def test_the_chosen_server_answers(server: str) -> None:
    with serve(app, server=server) as url:
        answer = httpx.get(url + "/conformance/capabilities")
    assert answer.status_code == 200
    assert answer.headers["server"] == SERVER_HEADER[server]


@pytest.mark.parametrize("server", SERVERS)
def test_a_stream_is_read_to_its_end_on_each_server(server: str) -> None:
    with (
        serve(app, server=server) as url,
        httpx.stream(
            "GET", url + "/conformance/text", params={"chunks": '["a", "b\\n", "c"]'}
        ) as answer,
    ):
        body = b"".join(answer.iter_raw())
    assert answer.status_code == 200
    assert body == b"ab\nc"


@pytest.mark.parametrize(
    ("name", "options", "said"),
    [
        ("http://127.0.0.1:9", {"server": "hypercorn"}, "not a running server"),
        (None, {"command": "x {port}", "server": "granian"}, "not a command"),
        ("impl.app:app", {"server": "daphne"}, "expected one of uvicorn, hypercorn, granian"),
    ],
)
def test_server_is_refused_where_it_cannot_apply(
    name: str | None, options: dict[str, str], said: str
) -> None:
    with pytest.raises(TargetError, match=said):
        load_target(name, **options)


def test_a_run_names_its_server_in_the_report(tmp_path: Path) -> None:
    run = run_spec(tmp_path, "--server=hypercorn", "--rules=CHUNK-WIRE-01")
    assert run.report["server"]["name"] == "hypercorn"
    assert run.report["server"]["version"]
    results = {rule["id"]: rule["result"] for rule in run.report["rules"]}
    assert results["CHUNK-WIRE-01"] == "pass"


def test_the_reference_sends_its_head_before_its_first_item_on_granian(tmp_path: Path) -> None:
    """granian, as ASGI allows, holds the head until a body message: the reference sends an
    empty one first, so the gated checks see the headers before the first item there too."""
    run = run_spec(
        tmp_path, "--server=granian", "--rules=HDR-TEXT-03,SURFACE-GATE-01,CANCEL-EARLY-01"
    )
    results = {r["id"]: r["result"] for r in run.report["rules"] if r["result"] != "not run"}
    assert results == {"HDR-TEXT-03": "pass", "SURFACE-GATE-01": "pass", "CANCEL-EARLY-01": "pass"}


@pytest.mark.parametrize("server", SERVERS)
def test_the_reference_passes_the_shutdown_rules_on_each_server(
    server: str, tmp_path: Path
) -> None:
    """CANCEL-SHUTDOWN-01 and 02 start the reference with the chosen server in a process of
    its own (spec/targets/process.py, spec/targets/serve_twice.py) and send it SIGTERM."""
    run = run_spec(tmp_path, f"--server={server}", "--rules=CANCEL-SHUTDOWN-01,CANCEL-SHUTDOWN-02")
    results = {r["id"]: r["result"] for r in run.report["rules"] if r["result"] != "not run"}
    assert results == {"CANCEL-SHUTDOWN-01": "pass", "CANCEL-SHUTDOWN-02": "pass"}
