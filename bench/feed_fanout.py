"""One conformance feed fanned out to many subscribers: in memory on one worker, and on
Redis Streams across several workers, in the same run.

For each setup it starts the reference (``uvicorn impl.app:app --workers W``, with
``STREAMSPEC_FEED`` set) on 127.0.0.1, opens ``--subscribers`` SSE connections to
``/conformance/feed/{name}`` (raw sockets, one task each, so that the client side
stays light), waits until every one has the feed's first event, then publishes
``--events`` events, one ``POST`` each, ``--interval`` seconds apart, each carrying
the wall-clock time it was sent. It prints, per setup: the events delivered per
second (all subscribers' events over the time from the first publish to the last
receipt), the p50 and p99 publish-to-receive latency, and the servers' resident
memory per subscriber (all the server's processes, after the subscribers joined,
less before, over their number).

Run: ``python -m bench.feed_fanout`` (the Redis setup starts Debian's redis-server
on a free port; ``--redis-server`` names another binary). Clients and servers share
this machine's cores: the figures compare the setups of one run, not machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from spec.sse import Decoder, MessageEvent
from spec.targets.command import accepts_connections
from spec.targets.process import Child, free_port, run_child

FEED = "fanout"
GUARD = 120.0  # seconds: a hang guard for each phase, never a figure


@dataclass
class Subscriber:
    """What one subscriber received: the latency of each timed event, in seconds."""

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: list[float] = field(default_factory=list)
    last_at: float = 0.0
    gaps: int = 0


async def subscribe(port: int, one: Subscriber, expected: int) -> None:
    """Read the feed over a raw socket until *expected* timed events have arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /conformance/feed/{FEED} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"the feed answered {head[:60]!r}: {(await reader.read(300))!r}")
    decoder = Decoder()  # HTTP/1.0: the body is not chunked
    try:
        while len(one.latencies) + one.gaps < expected:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("the feed ended")
            now = time.time()
            for item in decoder.feed(chunk):
                if not isinstance(item, MessageEvent):
                    continue
                if item.type == "gap":  # fell behind the feed's replay window
                    one.gaps += 1
                elif item.data == "start":
                    one.ready.set()
                elif item.data.startswith("{"):
                    one.latencies.append(now - json.loads(item.data)["sent"])
                    one.last_at = now
    finally:
        writer.close()


def server_memory(pid: int) -> int:
    """The resident memory of *pid* and its children, in bytes (Linux ``/proc``)."""
    total, pending = 0, [pid]
    while pending:
        one = pending.pop()
        try:
            status = Path(f"/proc/{one}/status").read_text()
            children = Path(f"/proc/{one}/task/{one}/children").read_text().split()
        except OSError:
            continue
        total += next(
            int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")
        )
        pending += [int(c) for c in children]
    return total


@contextmanager
def redis(executable: str) -> Iterator[str]:
    """A redis-server without persistence on a free port; its URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as scratch:
        process = subprocess.Popen(
            [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", scratch, "--maxclients", "20000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + GUARD
            while not accepts_connections("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(GUARD)


async def stop(child: Child) -> None:
    """SIGTERM the server (its workers with it) and wait for it to exit."""
    child.terminate()
    if await child.exited(within=30) is None:
        child.process.kill()


async def measure(feed: str, workers: int, options: argparse.Namespace) -> dict[str, float]:
    """The figures of one setup."""
    port = free_port()
    command = [
        "env", f"STREAMSPEC_FEED={feed}", "STREAMSPEC_SEND_TIMEOUT=0", "STREAMSPEC_KEEPALIVE=0",
        sys.executable, "-m", "uvicorn", "impl.app:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning",
        "--no-access-log", "--backlog", str(options.subscribers + 128),
    ]  # fmt: skip
    with run_child(command) as child:
        try:
            return await _measure(child, port, options)
        finally:
            await stop(child)


async def _measure(child: Child, port: int, options: argparse.Namespace) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=GUARD) as client:
        async with asyncio.timeout(GUARD):
            while True:
                try:
                    answer = await client.post(f"/conformance/feed/{FEED}", content='["start"]')
                    answer.raise_for_status()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        before = server_memory(child.process.pid)
        subscribers = [Subscriber() for _ in range(options.subscribers)]
        tasks = [asyncio.create_task(subscribe(port, one, options.events)) for one in subscribers]
        async with asyncio.timeout(GUARD):
            for one in subscribers:
                await one.ready.wait()
        joined = server_memory(child.process.pid)
        started = time.time()
        for _ in range(options.events):
            body = json.dumps([json.dumps({"sent": time.time()})])
            (await client.post(f"/conformance/feed/{FEED}", content=body)).raise_for_status()
            await asyncio.sleep(options.interval)
        async with asyncio.timeout(GUARD):
            await asyncio.gather(*tasks)
    latencies = sorted(x for one in subscribers for x in one.latencies)
    ended = max(one.last_at for one in subscribers)
    return {
        "events/s": len(latencies) / (ended - started),
        "p50 ms": statistics.median(latencies) * 1000,
        "p99 ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "KiB/subscriber": (joined - before) / 1024 / options.subscribers,
        "gaps": sum(one.gaps for one in subscribers),
    }


def raise_open_files(needed: int) -> None:
    """Let this process and its children (servers, redis-server) open *needed* descriptors:
    each subscriber is a socket here, one in a worker, and one from it to Redis."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def main(options: argparse.Namespace) -> None:
    raise_open_files(4 * options.subscribers + 1024)
    executable = options.redis_server or shutil.which("redis-server") or "/usr/bin/redis-server"
    rows: list[tuple[str, dict[str, float]]] = []
    rows.append(("memory, 1 worker", await measure("memory", 1, options)))
    with redis(executable) as url:
        label = f"redis, {options.workers} workers"
        rows.append((label, await measure(url, options.workers, options)))
    print(
        f"{options.subscribers} subscribers, {options.events} events "
        f"{options.interval * 1000:g} ms apart"
    )
    columns = list(rows[0][1])
    print(f"{'setup':<20}" + "".join(f"{c:>16}" for c in columns))
    for label, figures in rows:
        print(f"{label:<20}" + "".join(f"{figures[c]:>16.1f}" for c in columns))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.feed_fanout", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000, help="SSE connections (1000)")
    parser.add_argument("--events", type=int, default=100, help="events published (100)")
    parser.add_argument(
        "--interval", type=float, default=0.02, help="seconds between two publishes (0.02)"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers on Redis (2)")
    parser.add_argument("--redis-server", help="the redis-server binary (Debian's)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
