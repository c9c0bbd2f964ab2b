"""The JavaScript clients' install step (``python -m peers.clients.npm``) and their pins.

Without Node it installs nothing and says why (exit 0: the other clients still
run); the packages the adapters import are pinned to exact versions in
``package.json``, which ``package-lock.json`` agrees with (``npm ci`` refuses
a lock out of step with its ``package.json``).
"""

from __future__ import annotations

import json
import shutil

import pytest

from peers.clients import npm


def test_without_node_it_skips_and_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert npm.main() == 0
    said = capsys.readouterr().err
    assert "skipping npm ci" in said
    assert "no node and npm on PATH" in said
    assert "eventsource and fetch-event-source" in said


def test_an_old_node_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(npm, "node_major", lambda node: 18)
    assert npm.why_not() == f"Node 18 is older than {npm.NODE_MAJOR}"


def test_the_packages_are_pinned_exactly_and_locked() -> None:
    manifest = json.loads((npm.JS / "package.json").read_text())
    lock = json.loads((npm.JS / "package-lock.json").read_text())
    pinned = manifest["dependencies"]
    assert set(pinned) == {"eventsource", "@microsoft/fetch-event-source"}
    for name, version in pinned.items():
        assert version[0].isdigit(), f"{name} {version} is not an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert lock["packages"][""]["dependencies"] == pinned
