"""The rule report keeps what a failure needs, and ``spec.matrix`` merges reports faithfully."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spec import matrix
from tests.run_suite import ROOT, run_spec


def test_a_property_failure_keeps_expected_seen_and_the_minimal_example(tmp_path: Path) -> None:
    """Hypothesis' minimal example (one event whose data is a line break) reaches the JSON."""
    page = tmp_path / "report.html"
    run = run_spec(
        tmp_path,
        "--rules=SSE-ENC-12",
        "--target=tests.broken.handmade_framing:app",
        f"--report-html={page}",
    )
    rule = next(r for r in run.report["rules"] if r["id"] == "SSE-ENC-12")
    assert rule["result"] == "fail"
    assert rule["about"] == "target"
    check = next(c for c in rule["checks"] if c["outcome"] == "fail")
    assert check["example"].startswith(("Failing test case:", "Falsifying example:"))
    assert "check_any_events_round_trip(" in check["example"]
    assert "events=[Event(" in check["example"]
    assert "MessageEvent(" in check["expected"]
    assert check["seen"] != check["expected"]
    assert check["example"] in check["message"]
    html = page.read_text(encoding="utf-8")
    assert "streamspec conformance report: tests.broken.handmade_framing:app" in html
    assert "minimal failing example:" in html
    assert "events=[Event(data=&#x27;\\n&#x27;" in html, "the example, escaped"


def report(target: str, results: dict[str, str], about: str = "target") -> dict[str, Any]:
    """A report in the JSON form, for the merge (as the plugin writes it)."""
    return {
        "target": target,
        "kind": "asgi app",
        "capabilities": {"sse": True},
        "totals": {},
        "rules": [
            {
                "id": rule_id,
                "level": "MUST",
                "statement": f"statement of {rule_id}",
                "source": "somewhere",
                "chapter": "spec.chapters.x",
                "about": "decoder" if rule_id.startswith("SSE-PARSE") else about,
                "result": result,
                "checks": [],
            }
            for rule_id, result in results.items()
        ],
    }


def test_merge_puts_each_target_in_a_column_and_leaves_out_decoder_rules() -> None:
    merged = matrix.merge(
        [
            report(
                "a:app", {"SSE-PARSE-01": "pass", "SSE-ENC-01": "pass", "SSE-ENC-02": "not run"}
            ),
            report(
                "b:app", {"SSE-PARSE-01": "pass", "SSE-ENC-01": "fail", "SSE-ENC-02": "not run"}
            ),
        ]
    )
    assert [row["id"] for row in merged["rules"]] == ["SSE-ENC-01"]
    assert merged["rules"][0]["results"] == {"a:app": "pass", "b:app": "fail"}
    assert [t["totals"] for t in merged["targets"]] == [{"pass": 1}, {"fail": 1}]
    table = matrix.markdown(merged)
    assert "| rule | level | a:app | b:app |" in table
    assert "| SSE-ENC-01 | MUST | pass | **fail** |" in table
    assert "| **totals** | | 1 pass | 1 fail |" in table


def with_checks(made: dict[str, Any], rule_id: str, *outcomes: tuple[str, str]) -> None:
    """Give *rule_id* of the report *made* checks of these (outcome, message)."""
    rule = next(rule for rule in made["rules"] if rule["id"] == rule_id)
    rule["checks"] = [{"outcome": outcome, "message": message} for outcome, message in outcomes]


def test_depth_counts_apart_the_rules_a_library_has_no_api_for() -> None:
    """Judged, of the rules the reference is judged on: a rule whose every check is not
    applicable because the target declares the capability false is not expressible in its
    library; one not applicable or not observable for any other reason is not judged."""
    undeclared = ("not applicable", "not applicable: the target declares sse: false in GET /x")
    reference = report(
        "impl:app",
        {
            "SSE-ENC-01": "pass",
            "SSE-ENC-02": "pass",
            "CHUNK-WIRE-01": "pass",
            "FILE-NAME-01": "pass",
            "INSTANCES-RESUME-01": "not applicable",
        },
    )
    peer = report(
        "peer:app",
        {
            "SSE-ENC-01": "not applicable",
            "SSE-ENC-02": "not applicable",
            "CHUNK-WIRE-01": "not observable",
            "FILE-NAME-01": "fail",
            "INSTANCES-RESUME-01": "not applicable",
        },
    )
    with_checks(peer, "SSE-ENC-01", undeclared, undeclared)
    with_checks(peer, "SSE-ENC-02", undeclared, ("not applicable", "over HTTP/2"))
    merged = matrix.merge([reference, peer])
    assert [target["depth"] for target in merged["targets"]] == [
        {"no_api": 0, "expressible": 4, "judged": 4},
        {"no_api": 1, "expressible": 3, "judged": 1},
    ]
    table = matrix.markdown(merged)
    assert table.endswith("| **judged, of the rules its API can express** | | 4 of 4 | 1 of 3 |\n")
    clients = matrix.merge([reference, peer], clients=True)
    assert [target["depth"] for target in clients["targets"]] == [None, None]


def test_an_intermittent_rule_reads_the_same_whatever_the_run_saw() -> None:
    """A rule listed as intermittent for a target shows so for a pass and for a fail alike,
    and counts so in its totals: the README's table does not change with the run."""
    tables = []
    for seen in ("pass", "fail"):
        merged = matrix.merge(
            [report("q:app", {"CANCEL-SENDING-01": seen, "SSE-ENC-01": "pass"})],
            intermittent={"q:app": ["CANCEL-SENDING-01"]},
        )
        assert merged["rules"][0]["results"] == {"q:app": "intermittent"}
        tables.append(matrix.markdown(merged))
    assert tables[0] == tables[1]
    assert "| CANCEL-SENDING-01 | MUST | **intermittent** |" in tables[0]
    assert "| **totals** | | 1 pass, 1 intermittent |" in tables[0]
    unlisted = matrix.merge([report("q:app", {"CANCEL-SENDING-01": "fail"})])
    assert unlisted["rules"][0]["results"] == {"q:app": "fail"}


def test_the_peer_list_reads_intermittent_rules(tmp_path: Path) -> None:
    listing = tmp_path / "m.toml"
    listing.write_text(
        '[[targets]]\nlabel = "Q"\ntarget = "q:app"\nintermittent = ["CANCEL-SENDING-01"]\n'
    )
    assert matrix.load_targets(listing)[0].intermittent == ("CANCEL-SENDING-01",)


def test_the_readme_check_fails_on_another_matrix_and_updates_it(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{matrix.START}\n| old |\n{matrix.END}\nrest\n")
    merge = [
        "--merge",
        str(_write(tmp_path)),
        "--out",
        str(tmp_path / "m"),
        "--readme",
        str(readme),
    ]
    assert matrix.main(merge) == 1
    assert matrix.main([*merge, "--update-readme"]) == 0
    text = readme.read_text()
    assert matrix.readme_section(text) == (tmp_path / "m" / "matrix.md").read_text()
    assert text.startswith("intro\n")
    assert text.endswith(f"{matrix.END}\nrest\n")
    assert matrix.main(merge) == 0


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(report("a:app", {"SSE-ENC-01": "pass"})))
    return path


def test_a_changed_cell_is_named_with_what_its_checks_said() -> None:
    """A CI log shows which cells differ from the README and why, not only the new table."""
    before = matrix.merge(
        [report("a:app", {"SSE-ENC-01": "pass"}), report("b:app", {"SSE-ENC-01": "fail"})]
    )
    run_now = [report("a:app", {"SSE-ENC-01": "fail"}), report("b:app", {"SSE-ENC-01": "fail"})]
    with_checks(run_now[0], "SSE-ENC-01", ("fail", "the server exited\n  after 11 s"))
    run_now[0]["rules"][0]["checks"][0]["nodeid"] = "chapters/x.py::check_x"
    lines = matrix.changed_cells(matrix.markdown(before), matrix.merge(run_now))
    assert lines == [
        "- SSE-ENC-01 on a:app: the README shows pass, this run **fail**",
        "    chapters/x.py::check_x (fail): the server exited after 11 s",
    ]
    assert matrix.changed_cells(matrix.markdown(before), before) == []


def test_merge_from_the_command_line_writes_json_html_and_markdown(tmp_path: Path) -> None:
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "spec.matrix", "--merge", str(_write(tmp_path)), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert json.loads((out / "matrix.json").read_text())["rules"][0]["id"] == "SSE-ENC-01"
    assert "<table" in (out / "matrix.html").read_text()
    assert "| SSE-ENC-01 | MUST | pass |" in (out / "matrix.md").read_text()


def test_the_peer_list_names_each_target_one_way() -> None:
    targets = matrix.load_targets(ROOT / "peers" / "matrix.toml")
    assert len({t.label for t in targets}) == len(targets) >= 7
    assert any(t.command and "{port}" in t.command for t in targets), "aiohttp is a command"


def test_a_target_listed_two_ways_is_refused(tmp_path: Path) -> None:
    listing = tmp_path / "m.toml"
    listing.write_text('[[targets]]\nlabel = "x"\ntarget = "a:b"\ncommand = "c {port}"\n')
    with pytest.raises(ValueError, match="exactly one of target, command, client"):
        matrix.load_targets(listing)


def _with_client_rules(target: str) -> dict[str, Any]:
    made = report(target, {"SSE-PARSE-01": "pass", "SSE-ENC-01": "pass"})
    made["rules"] += report(target, {"SSE-CLIENT-01": "fail"}, about="client")["rules"]
    return made


def test_a_server_matrix_leaves_out_the_client_rules() -> None:
    merged = matrix.merge([_with_client_rules("a:app")])
    assert [row["id"] for row in merged["rules"]] == ["SSE-ENC-01"]


def test_a_client_matrix_keeps_only_the_client_rules() -> None:
    merged = matrix.merge([_with_client_rules("httpx-sse")], clients=True)
    assert [row["id"] for row in merged["rules"]] == ["SSE-CLIENT-01"]
    assert merged["clients"] is True


def test_the_client_list_runs_only_the_client_chapter() -> None:
    clients = matrix.load_targets(ROOT / "peers" / "clients.toml")
    assert {entry.label for entry in clients} >= {
        "httpx-sse",
        "sseclient-py",
        "Chromium EventSource",
    }
    for entry in clients:
        assert entry.client is not None
        assert "{url}" in entry.client
        options = entry.options()
        assert f"--ignore={matrix.CLIENT_CHAPTER}" not in options
        assert "--rules=SSE-CLIENT-*" in options


def test_an_npm_client_is_labelled_with_its_locked_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The JavaScript columns show the versions package-lock.json pins (read from the
    repository root, where the matrix runs), whether or not node_modules is installed."""
    monkeypatch.chdir(ROOT)
    clients = matrix.load_targets(ROOT / "peers" / "clients.toml")
    lock = json.loads((ROOT / "peers" / "clients" / "js" / "package-lock.json").read_text())
    versions = {entry.label: entry.version() for entry in clients if entry.npm is not None}
    assert versions == {
        "eventsource": lock["packages"]["node_modules/eventsource"]["version"],
        "fetch-event-source": lock["packages"]["node_modules/@microsoft/fetch-event-source"][
            "version"
        ],
    }
    assert matrix.npm_version("nowhere:eventsource") == ""


def test_a_server_run_skips_the_client_chapter() -> None:
    (first, *_) = matrix.load_targets(ROOT / "peers" / "matrix.toml")
    assert first.options()[0] == f"--ignore={matrix.CLIENT_CHAPTER}"
    assert Path(matrix.CLIENT_CHAPTER).is_file()


def test_the_readme_shows_both_matrices() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| SSE-ENC-01 |" in matrix.readme_section(text)
    assert "| SSE-CLIENT-01 |" in matrix.readme_section(text, clients=True)


def test_the_server_matrix_names_its_servers_and_its_readme_section() -> None:
    path = ROOT / "peers" / "servers.toml"
    entries = matrix.load_targets(path)
    assert matrix.load_section(path) == "servers"
    assert {entry.server for entry in entries} == {"uvicorn", "hypercorn", "granian"}
    for entry in entries:
        assert f"--server={entry.server}" in entry.options()
        assert entry.library == entry.server
    over_h2 = [entry for entry in entries if "--http=2" in entry.options()]
    assert {entry.server for entry in over_h2} == {"hypercorn", "granian"}
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = matrix.readme_section(text, section="servers")
    assert "| CHUNK-WIRE-01 |" in section
    assert "impl on granian" in section


def test_a_section_is_found_by_its_markers() -> None:
    text = "a\n<!-- servers:start -->\nold\n<!-- servers:end -->\nb\n"
    assert matrix.readme_section(text, section="servers") == "old\n"
    replaced = matrix.replace_readme_section(text, "new\n", section="servers")
    assert replaced == "a\n<!-- servers:start -->\nnew\n<!-- servers:end -->\nb\n"
    with pytest.raises(ValueError, match="no <!-- other:start -->"):
        matrix.readme_section(text, section="other")
