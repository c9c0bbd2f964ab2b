"""``FileDownload`` hands a whole-file 200 to the server by path where the server offers
``http.response.pathsend``, and keeps everything else on its read path.

Driven with a scripted ``send``/``receive`` (the client never leaves); the wire-level FILE
chapter runs on granian, which offers the extension: ``--server=granian``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

import impl.download
from impl.download import FileDownload
from impl.safe_path import OpenFile

PATHSEND = {"http.response.pathsend": {}}
CONTENT = bytes(range(256)) * 40


async def play(
    download: FileDownload,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
    http_version: str = "1.1",
) -> list[dict[str, Any]]:
    """The messages *download* sends for one request."""
    scope = {
        "type": "http",
        "http_version": http_version,
        "method": method,
        "path": "/f",
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        "extensions": PATHSEND if extensions is None else extensions,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await download(scope, receive, send)
    return sent


def body_of(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def kinds(sent: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in sent]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "file.bin").write_bytes(CONTENT)
    (tmp_path / "empty.txt").write_bytes(b"")
    return tmp_path


async def test_a_whole_file_is_handed_over_by_its_real_path(root: Path) -> None:
    real = str((root / "file.bin").resolve())
    sent = await play(FileDownload(root, "file.bin"))
    assert kinds(sent) == ["http.response.start", "http.response.pathsend"]
    assert (b"content-length", str(len(CONTENT)).encode()) in sent[0]["headers"]
    assert sent[1]["path"] == real


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("HEAD", {}, 200),
        ("GET", {"range": "bytes=10-19"}, 206),
        ("GET", {"range": "bytes=0-1,5-9"}, 206),
        ("GET", {"range": "bytes=999999-"}, 416),
    ],
)
async def test_heads_parts_and_refusals_stay_on_the_read_path(
    root: Path, method: str, headers: dict[str, str], status: int
) -> None:
    sent = await play(FileDownload(root, "file.bin"), method=method, headers=headers)
    assert sent[0]["status"] == status
    assert "http.response.pathsend" not in kinds(sent)
    assert sent[-1] == {**sent[-1], "type": "http.response.body", "more_body": False}


async def test_a_304_and_an_empty_file_stay_on_the_read_path(root: Path) -> None:
    first = await play(FileDownload(root, "file.bin"))
    etag = dict(first[0]["headers"])[b"etag"].decode()
    sent = await play(FileDownload(root, "file.bin"), headers={"if-none-match": etag})
    assert (sent[0]["status"], kinds(sent)) == (304, ["http.response.start", "http.response.body"])
    sent = await play(FileDownload(root, "empty.txt"))
    assert kinds(sent) == ["http.response.start", "http.response.body"]


async def test_without_the_extension_or_with_pathsend_off_the_file_is_read(root: Path) -> None:
    for download, extensions in (
        (FileDownload(root, "file.bin"), {}),
        (FileDownload(root, "file.bin", pathsend=False), PATHSEND),
    ):
        sent = await play(download, extensions=extensions)
        assert "http.response.pathsend" not in kinds(sent)
        assert body_of(sent) == CONTENT


async def test_over_http2_the_file_is_read_not_handed_over(root: Path) -> None:
    """granian 2.8.9 sends a file handed over by path to its end over HTTP/2, whatever the
    Content-Length (tests/test_granian_pathsend.py): there the read path keeps the length."""
    sent = await play(FileDownload(root, "file.bin"), http_version="2")
    assert "http.response.pathsend" not in kinds(sent)
    assert body_of(sent) == CONTENT
    assert sent[-1]["more_body"] is False
    for version in ("1.0", "1.1"):
        sent = await play(FileDownload(root, "file.bin"), http_version=version)
        assert kinds(sent) == ["http.response.start", "http.response.pathsend"]


@pytest.mark.parametrize("change", ["grows", "shrinks", "is replaced", "becomes a symlink"])
async def test_a_file_changed_since_its_headers_is_not_handed_over(
    root: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the fstat that made the headers and the hand-over: the read path then keeps
    the Content-Length (exactly the announced bytes, or an aborted response)."""
    opened_for_real = impl.download.open_inside

    def open_then_change(root: Path, name: str) -> OpenFile | None:
        opened = opened_for_real(root, name)
        path = root / name
        if change == "grows":
            with path.open("ab") as file:
                file.write(b"more")
        elif change == "shrinks":
            os.truncate(path, 10)
        elif change == "is replaced":
            replacement = root / "replacement"
            replacement.write_bytes(CONTENT)
            os.replace(replacement, path)
        else:  # to a file outside the root, which the server would follow
            outside = root.parent / f"{root.name}-outside"
            outside.write_bytes(CONTENT)
            link = root / "link"
            link.symlink_to(outside)
            os.replace(link, path)
        return opened

    monkeypatch.setattr(impl.download, "open_inside", open_then_change)
    if change == "shrinks":
        with pytest.raises(impl.download.FileShrank):
            await play(FileDownload(root, "file.bin"))
        return
    sent = await play(FileDownload(root, "file.bin"))
    assert "http.response.pathsend" not in kinds(sent)
    assert body_of(sent) == CONTENT
