"""Download throughput of a 1 GiB file: the reference download beside the alternatives.

Usage::

    python bench/file_download.py [--size-mib 1024] [--rounds 3] [--chunks 65536,262144,...]

In one run, on one file written to a temporary directory, each server is
started in its own process (uvicorn on 127.0.0.1, h11, one worker) and the file
is read by a fast client (a raw socket reading into a reused buffer and
discarding, so the client is never the bottleneck); the best of ``--rounds``
is printed, in MiB/s and relative to Starlette's ``FileResponse``:

* ``reference/<chunk>``: :class:`impl.download.FileDownload` with each chunk size;
* ``starlette``: Starlette's ``FileResponse`` (64 KiB through anyio's file API);
* ``tutorial``: the source document's blocking ``open()``/``read()`` generator (1 MiB);
* ``nginx-sendfile``: nginx with ``sendfile on``, when ``nginx`` is on PATH.

Rounds are interleaved (every server once, then again) so that a busy moment
of the machine does not land on one server only. The reference's
``CHUNK_SIZE`` was chosen from this table: the smallest chunk within a few
percent of the best throughput, since a larger chunk only costs memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from impl.download import FileDownload

NAME = "large.bin"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _app(kind: str, root: str) -> Starlette:
    async def file_chunk_generator(path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        with open(path, "rb") as f:  # noqa: ASYNC230 -- the source document's blocking reads
            while chunk := f.read(chunk_size):
                yield chunk

    async def endpoint(request: Request) -> Response:
        path = os.path.join(root, NAME)
        if kind == "starlette":
            return FileResponse(path)
        if kind == "tutorial":
            size = os.path.getsize(path)  # noqa: ASYNC240 -- as the source document does
            return StreamingResponse(
                file_chunk_generator(path), headers={"Content-Length": str(size)}
            )
        return FileDownload(Path(root), NAME, chunk_size=int(kind.split("/")[1]))

    return Starlette(routes=[Route(f"/{NAME}", endpoint)])


def _serve(kind: str, root: str, port: int) -> None:
    uvicorn.run(_app(kind, root), host="127.0.0.1", port=port, http="h11", log_level="error")


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise RuntimeError(f"nothing listens on {port}")


def download(port: int, size: int) -> float:
    """Read the file once over a fresh connection; return seconds from request to last byte."""
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(f"GET /{NAME} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(65536)
        header, _, body = head.partition(b"\r\n\r\n")
        if not header.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(header.decode("latin-1"))
        received = len(body)
        while received < size:
            got = conn.recv_into(view)
            if not got:
                raise RuntimeError(f"connection closed after {received} bytes")
            received += got
    return time.perf_counter() - started


def _nginx(root: str, port: int, workdir: Path) -> subprocess.Popen[bytes] | None:
    binary = shutil.which("nginx")
    if binary is None:
        return None
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""
daemon off; worker_processes 1; pid {workdir}/nginx.pid; error_log {workdir}/error.log;
user root;
events {{ worker_connections 64; }}
http {{
    access_log off; sendfile on; tcp_nopush on;
    client_body_temp_path {workdir}; proxy_temp_path {workdir}; fastcgi_temp_path {workdir};
    uwsgi_temp_path {workdir}; scgi_temp_path {workdir};
    server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
"""
    )
    return subprocess.Popen([binary, "-c", str(conf), "-p", str(workdir)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunks", default="65536,262144,1048576,4194304")
    options = parser.parse_args()
    size = options.size_mib << 20
    kinds = [f"reference/{c}" for c in options.chunks.split(",")] + ["starlette", "tutorial"]

    with tempfile.TemporaryDirectory(prefix="streamspec-bench-") as tmp:
        workdir = Path(tmp)
        root = workdir / "root"
        root.mkdir()
        block = os.urandom(1 << 20)
        with (root / NAME).open("wb") as file:
            for _ in range(options.size_mib):
                file.write(block)
        servers: dict[str, int] = {}
        processes: list[multiprocessing.Process] = []
        for kind in kinds:
            port = _free_port()
            process = multiprocessing.Process(target=_serve, args=(kind, str(root), port))
            process.start()
            processes.append(process)
            servers[kind] = port
        nginx_port = _free_port()
        nginx = _nginx(str(root), nginx_port, workdir)
        if nginx is not None:
            servers["nginx-sendfile"] = nginx_port
        try:
            for port in servers.values():
                _wait_listening(port)
            download(servers[kinds[0]], size)  # warm the page cache
            best = {kind: float("inf") for kind in servers}
            for _ in range(options.rounds):
                for kind, port in servers.items():
                    best[kind] = min(best[kind], download(port, size))
        finally:
            for process in processes:
                process.terminate()
                process.join()
            if nginx is not None:
                nginx.terminate()
                nginx.wait()

    baseline = best["starlette"]
    print(f"{options.size_mib} MiB file, best of {options.rounds}, uvicorn h11 on 127.0.0.1")
    print(f"{'server':<20} {'MiB/s':>9} {'x starlette':>12}")
    for kind, seconds in sorted(best.items(), key=lambda item: item[1]):
        rate = options.size_mib / seconds
        print(f"{kind:<20} {rate:>9.0f} {baseline / seconds:>12.2f}")


if __name__ == "__main__":
    main()
