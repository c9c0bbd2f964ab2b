"""Download throughput of a 1 GiB file: the reference download beside the alternatives.

Usage::

    python bench/file_download.py [--size-mib 1024] [--rounds 5] [--chunks 1048576,4194304]
                                  [--only NAME,...]

In one run, on one file written to a temporary directory, each contender is
started in its own process (one worker on 127.0.0.1) and the file is read by a
fast client (a raw socket reading into a reused buffer and discarding, so the
client is never the bottleneck); the best and the median of ``--rounds`` are
printed, in MiB/s and as ratios to nginx's sendfile and to Starlette's
``FileResponse`` in the same run, with the server's CPU seconds per GiB (its
processes', from ``/proc``: less sensitive than wall time to a busy machine) and
the load average before and after:

* ``reference/<chunk>``: :class:`impl.download.FileDownload` on uvicorn (h11, as the
  suite runs it), its read path with each chunk size;
* ``granian-pathsend``: the same on granian (its embedded server), which offers
  ``http.response.pathsend``: the file is handed over by path (granian 2.8 reads it
  in user space, not with ``sendfile(2)``: its CPU per GiB shows it);
* ``granian-read``: the same on granian with ``pathsend=False`` (the read path,
  :data:`impl.download.CHUNK_SIZE`);
* ``starlette``: Starlette's ``FileResponse`` on uvicorn (64 KiB through anyio's file API);
* ``tutorial``: the source document's blocking ``open()``/``read()`` generator (1 MiB);
* ``nginx-sendfile``: nginx with ``sendfile on``, when ``nginx`` is on PATH.

Rounds are interleaved (every contender once, then again) so that a busy moment
of the machine does not land on one contender only. The reference's
``CHUNK_SIZE`` was chosen from this table: the smallest chunk within a few
percent of the best throughput, since a larger chunk only costs memory.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from impl.download import CHUNK_SIZE, FileDownload

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
        if kind == "granian-pathsend":
            return FileDownload(Path(root), NAME)
        if kind == "granian-read":
            return FileDownload(Path(root), NAME, pathsend=False)
        return FileDownload(Path(root), NAME, chunk_size=int(kind.split("/")[1]))

    return Starlette(routes=[Route(f"/{NAME}", endpoint)])


def _serve(kind: str, root: str, port: int) -> None:
    if kind.startswith("granian"):
        from granian.constants import Interfaces  # noqa: PLC0415 - an optional server
        from granian.server.embed import Server  # noqa: PLC0415

        server: Any = Server(
            _app(kind, root), port=port, interface=Interfaces.ASGI, log_enabled=False
        )
        asyncio.run(server.serve())
        return
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


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds used so far by process *pid* and its descendants (Linux)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total = (int(fields[11]) + int(fields[12])) / _TICK
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (OSError, IndexError, ValueError):  # the process ended meanwhile
        pass
    return total


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Contenders: reference/<chunk> (one per --chunks), granian-pathsend, "
        "granian-read, starlette, tutorial, nginx-sendfile.",
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="file size (default 1024)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per contender (default 5)")
    parser.add_argument(
        "--chunks",
        default="262144,1048576,2097152,4194304,8388608",
        help="chunk sizes of the reference on uvicorn, comma-separated "
        f"(default 256 KiB to 8 MiB; CHUNK_SIZE is {CHUNK_SIZE})",
    )
    parser.add_argument(
        "--only",
        default="",
        help="run only these contenders (comma-separated names or prefixes, e.g. "
        "'reference,granian'); nginx-sendfile and starlette always run, for the ratios",
    )
    return parser


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


Measured = dict[str, list[float]]


def _measure(kinds: list[str], size_mib: int, rounds: int) -> tuple[Measured, Measured]:
    """Serve one file of *size_mib* MiB with each contender (and nginx) and download it
    *rounds* times, interleaved: the seconds of each download, and the server's CPU seconds."""
    size = size_mib << 20
    with tempfile.TemporaryDirectory(prefix="streamspec-bench-") as tmp:
        workdir = Path(tmp)
        root = workdir / "root"
        root.mkdir()
        block = os.urandom(1 << 20)
        with (root / NAME).open("wb") as file:
            for _ in range(size_mib):
                file.write(block)
        servers: dict[str, int] = {}
        pids: dict[str, int] = {}
        processes: list[multiprocessing.Process] = []
        for kind in kinds:
            port = _free_port()
            process = multiprocessing.Process(target=_serve, args=(kind, str(root), port))
            process.start()
            processes.append(process)
            servers[kind] = port
            pids[kind] = process.pid or 0
        nginx_port = _free_port()
        nginx = _nginx(str(root), nginx_port, workdir)
        if nginx is not None:
            servers["nginx-sendfile"] = nginx_port
            pids["nginx-sendfile"] = nginx.pid
        try:
            for port in servers.values():
                _wait_listening(port)
            download(servers[kinds[0]], size)  # warm the page cache
            times: Measured = {kind: [] for kind in servers}
            cpu: Measured = {kind: [] for kind in servers}
            for _ in range(rounds):
                for kind, port in servers.items():
                    used = cpu_seconds(pids[kind])
                    times[kind].append(download(port, size))
                    cpu[kind].append(cpu_seconds(pids[kind]) - used)
        finally:
            for process in processes:
                process.terminate()
                process.join()
            if nginx is not None:
                nginx.terminate()
                nginx.wait()
    return times, cpu


def main() -> None:
    options = _parser().parse_args()
    kinds = [f"reference/{c}" for c in options.chunks.split(",")]
    kinds += ["granian-pathsend", "granian-read", "starlette", "tutorial"]
    if options.only:
        wanted = tuple(options.only.split(","))
        kinds = [k for k in kinds if k.startswith(wanted) or k == "starlette"]
    load_before = _load()
    times, cpu = _measure(kinds, options.size_mib, options.rounds)

    best = {kind: min(seconds) for kind, seconds in times.items()}
    median = {kind: statistics.median(seconds) for kind, seconds in times.items()}
    print(
        f"{options.size_mib} MiB file, {options.rounds} rounds interleaved, 127.0.0.1, "
        f"load average {load_before} before, {_load()} after"
    )
    ratios = [("x nginx", best.get("nginx-sendfile")), ("x starlette", best["starlette"])]
    columns = [name for name, baseline in ratios if baseline is not None]
    print(
        f"{'contender':<20} {'MiB/s best':>10} {'median':>8} {'CPU s/GiB':>9} "
        + " ".join(f"{c:>12}" for c in columns)
    )
    gib = options.size_mib / 1024
    for kind, seconds in sorted(best.items(), key=lambda item: item[1]):
        shown = " ".join(f"{baseline / seconds:>12.2f}" for _, baseline in ratios if baseline)
        rate, typical = options.size_mib / seconds, options.size_mib / median[kind]
        spent = statistics.median(cpu[kind]) / gib
        print(f"{kind:<20} {rate:>10.0f} {typical:>8.0f} {spent:>9.2f} {shown}")
    print(
        "ratios: of the best times, each contender's against the baseline's, in this run; "
        "CPU s/GiB: the server's processes', median"
    )


if __name__ == "__main__":
    main()
