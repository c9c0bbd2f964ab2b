"""The SSE bench: the reference beside its peers, interleaved in one run, as ratios and plots.

Usage::

    python -m bench run [--events 50000] [--rounds 3] [--concurrency 1,10,100] [--idle 100,1000]
    python -m bench run --full          # the issue's sizes: 200,000 events, 5 rounds, 1 to 1,000
                                        # streams, up to 10,000 idle streams

Each contender (:mod:`bench.sse_apps`) is a uvicorn server of its own (one
worker, 127.0.0.1), all started before the first measurement and all serving
the same producer; the client is :mod:`bench.sse_load`. Each round measures
every contender once, in turn, so that a busy moment of the machine lands on
all of them alike; the figures are medians over the rounds:

* one stream of ``--events`` events of ``--size`` bytes: events per second, and
  the server's CPU per event (its user + system time, from ``/proc``);
* ``--concurrency`` streams at once (``--concurrent-events`` events in all,
  shared out among them): aggregate events per second, CPU per event, and the
  slowest stream's first byte (the fairness of a server that takes turns);
* then, in a fresh server per contender, ``--idle`` streams held open with
  no event: the server's resident memory, KiB per idle stream, and the wall
  time of a fresh request (a new connection, one event, read to the end;
  the median of 5) with them open.

It prints a table with the reference's ratio to each peer (events per second,
in this run), writes ``results.json``, ``table.md`` and the PNG plots into
``--out``, and prints the load average before and after. Figures are this
machine's, this moment's: compare ratios from one run, never absolutes
across runs. ``--baseline DIR`` adds ``reference@baseline``, the reference
from another checkout's ``impl/`` and ``spec/`` (``git archive main impl spec
| tar -x -C DIR``), for before/after figures from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.sse_apps import CONTENDERS
from bench.sse_load import cpu_seconds, hold_idle, read_stream, read_streams, rss_kib

DEFAULT_CONTENDERS = ("reference", "starlette", "sse-starlette", "fastapi", "tutorial")
BASELINE = "reference@baseline"
REFERENCE = "reference"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """One contender's server process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Results:
    """Everything one run measured, as written to ``results.json``."""

    options: dict[str, Any]
    machine: dict[str, Any]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    single: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    concurrent: dict[str, dict[str, list[dict[str, float]]]] = field(default_factory=dict)
    idle: dict[str, list[dict[str, float]]] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until_listening(server: Server, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the {server.name} server exited with {server.process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the {server.name} server did not listen within {within}s"
                ) from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return


@contextmanager
def serving(names: Sequence[str], options: argparse.Namespace) -> Iterator[dict[str, Server]]:
    """Start one server per contender; stop every one on leaving."""
    with ExitStack() as stack:
        servers: dict[str, Server] = {}
        for name in names:
            contender, impl_from = name, None
            if name == BASELINE:
                contender, impl_from = REFERENCE, options.baseline
            port = _free_port()
            command = [
                sys.executable, "-m", "bench.sse_apps", contender, "--port", str(port),
                "--http", options.http, "--loop", options.loop,
            ]  # fmt: skip
            if impl_from:
                command += ["--impl-from", str(Path(impl_from).resolve())]
            process = subprocess.Popen(command, cwd=ROOT)
            stack.callback(_stop, process)
            servers[name] = Server(name, port, process)
        asyncio.run(_all_listening(servers.values()))
        yield servers


async def _all_listening(servers: Any) -> None:
    for server in servers:
        await _until_listening(server)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def measure_single(server: Server, events: int, size: int) -> dict[str, float]:
    """One stream of *events* events: events/s, server and client CPU per event."""
    cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
    result = await read_stream(server.port, f"/sse?n={events}&size={size}")
    if result.events != events:
        raise RuntimeError(f"{server.name}: {result.events} events of {events}")
    return {
        "events_per_s": events / result.elapsed,
        "cpu_us_per_event": (cpu_seconds(server.pid) - cpu) / events * 1e6,
        "client_cpu_us_per_event": (time.process_time() - client_cpu) / events * 1e6,
        "first_byte_ms": result.first_byte * 1e3,
    }


async def measure_concurrent(
    server: Server, streams: int, total: int, size: int
) -> dict[str, float]:
    """*streams* streams at once, *total* events shared out among them."""
    each = max(total // streams, 1)
    cpu = cpu_seconds(server.pid)
    started = time.perf_counter()
    results = await read_streams(server.port, f"/sse?n={each}&size={size}", streams)
    elapsed = time.perf_counter() - started
    made = sum(result.events for result in results)
    if made != each * streams:
        raise RuntimeError(f"{server.name}: {made} events of {each * streams}")
    return {
        "events_per_s": made / elapsed,
        "cpu_us_per_event": (cpu_seconds(server.pid) - cpu) / made * 1e6,
        "slowest_first_byte_ms": max(result.first_byte for result in results) * 1e3,
    }


FRESH_TRIES = 5
"""Fresh requests timed at each count of idle streams (their median is reported)."""


async def fresh_request_ms(server: Server) -> float:
    """The median wall time of :data:`FRESH_TRIES` fresh requests, one after another, each a
    new connection asking for one event and reading the stream to its end."""
    times = []
    for _ in range(FRESH_TRIES):
        started = time.perf_counter()
        await read_stream(server.port, "/sse?n=1&size=64")
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


async def measure_idle(server: Server, counts: Sequence[int]) -> list[dict[str, float]]:
    """Resident memory with 0 and then each of *counts* idle streams open (cumulative), and
    the time a fresh request takes with them open (:func:`fresh_request_ms`)."""
    await asyncio.sleep(0.5)
    base = rss_kib(server.pid)
    rows = [
        {
            "streams": 0,
            "rss_kib": base,
            "kib_per_stream": 0.0,
            "fresh_ms": await fresh_request_ms(server),
        }
    ]
    held: list[asyncio.StreamWriter] = []
    try:
        for count in counts:
            held += await hold_idle(server.port, count - len(held))
            await asyncio.sleep(0.5)
            rss = rss_kib(server.pid)
            rows.append(
                {
                    "streams": count,
                    "rss_kib": rss,
                    "kib_per_stream": (rss - base) / count,
                    "fresh_ms": await fresh_request_ms(server),
                }
            )
    finally:
        for writer in held:
            writer.close()
    return rows


def run(options: argparse.Namespace) -> Results:
    names = list(options.contenders)
    if options.baseline:
        names.insert(1, BASELINE)
    results = Results(
        options={key: value for key, value in vars(options).items() if key != "handler"},
        machine={
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "http": options.http,
            "loop": options.loop,
        },
        load_before=os.getloadavg(),
    )
    with serving(names, options) as servers:
        for round_number in range(options.rounds):
            for name, server in servers.items():
                row = asyncio.run(measure_single(server, options.events, options.size))
                results.single.setdefault(name, []).append(row)
                _progress(f"round {round_number + 1} {name}: {row['events_per_s']:,.0f} events/s")
            for streams in options.concurrency:
                for name, server in servers.items():
                    row = asyncio.run(
                        measure_concurrent(server, streams, options.concurrent_events, options.size)
                    )
                    per = results.concurrent.setdefault(name, {})
                    per.setdefault(str(streams), []).append(row)
    if options.idle:
        for name in names:
            with serving([name], options) as alone:
                results.idle[name] = asyncio.run(measure_idle(alone[name], options.idle))
                last = results.idle[name][-1]
                _progress(
                    f"idle {name}: {last['kib_per_stream']:.1f} KiB/stream, a fresh request "
                    f"{last['fresh_ms']:.1f} ms with {last['streams']:,.0f} open"
                )
    results.load_after = os.getloadavg()
    return results


def _progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def median(rows: Sequence[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def table(results: Results) -> str:
    """The run as a Markdown table, with the reference's ratio to each contender."""
    names = list(results.single)
    reference = median(results.single[REFERENCE], "events_per_s") if REFERENCE in names else None
    levels = sorted({int(level) for per in results.concurrent.values() for level in per})
    head = ["contender", "events/s (1 stream)", "CPU µs/event", "reference x"]
    for level in levels:
        head += [f"events/s @{level}", f"slowest first byte @{level}"]
    if results.idle:
        most = max(row["streams"] for rows in results.idle.values() for row in rows)
        head += ["KiB per idle stream", f"fresh request with {most:,.0f} idle"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        rate = median(results.single[name], "events_per_s")
        cells = [
            name,
            f"{rate:,.0f}",
            f"{median(results.single[name], 'cpu_us_per_event'):.1f}",
            f"{reference / rate:.2f}" if reference else "",
        ]
        for level in levels:
            rows = results.concurrent.get(name, {}).get(str(level), [])
            cells += (
                [
                    f"{median(rows, 'events_per_s'):,.0f}",
                    f"{median(rows, 'slowest_first_byte_ms'):.1f} ms",
                ]
                if rows
                else ["", ""]
            )
        if results.idle:
            idle = results.idle.get(name)
            cells += (
                [f"{idle[-1]['kib_per_stream']:.1f}", f"{idle[-1]['fresh_ms']:.1f} ms"]
                if idle
                else ["", ""]
            )
        lines.append("| " + " | ".join(cells) + " |")
    load = ", ".join(f"{value:.2f}" for value in results.load_before)
    after = ", ".join(f"{value:.2f}" for value in results.load_after)
    options = results.options
    lines += [
        "",
        f"{options['events']:,} events of {options['size']} B, medians of {options['rounds']}"
        f" interleaved rounds; uvicorn (--http {options['http']}, --loop {options['loop']}),"
        f" one worker, 127.0.0.1; load average {load} before, {after} after"
        f' ({results.machine["cpus"]} CPUs). "reference x": the reference\'s events/s'
        " over the contender's, in this run.",
    ]
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="python -m bench run",
        description="SSE throughput, CPU, fairness and idle memory of the reference beside its"
        " peers, interleaved in one run; prints ratios, writes results.json, table.md and PNGs.",
    )
    add_options(command)
    return command


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def add_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--contenders",
        type=lambda text: text.split(","),
        default=list(DEFAULT_CONTENDERS),
        help=f"comma-separated, of: {', '.join(CONTENDERS)} (default: %(default)s)",
    )
    command.add_argument("--events", type=int, default=50_000, help="events of the one-stream run")
    command.add_argument("--size", type=int, default=64, help="bytes of data per event")
    command.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    command.add_argument(
        "--concurrency", type=_numbers, default=[1, 10, 100], help="streams at once, e.g. 1,10,100"
    )
    command.add_argument(
        "--concurrent-events",
        type=int,
        default=20_000,
        help="events in all at each concurrency, shared out among the streams",
    )
    command.add_argument(
        "--idle",
        type=_numbers,
        default=[100, 1000],
        help="idle streams held open (cumulative), e.g. 100,1000,10000; empty: skip",
    )
    command.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"])
    command.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    command.add_argument(
        "--baseline",
        metavar="DIR",
        help="also run the reference from DIR's impl/ and spec/ (reference@baseline)",
    )
    command.add_argument("--out", type=Path, default=Path("bench/results"), help="output folder")
    command.add_argument("--no-plots", action="store_true", help="write no PNG")
    command.add_argument(
        "--full",
        action="store_true",
        help="the issue's sizes: 200,000 events, 5 rounds, 1-1,000 streams of 200,000 events"
        " in all, up to 10,000 idle streams (long)",
    )


def apply_full(options: argparse.Namespace) -> None:
    if options.full:
        options.events, options.rounds = 200_000, 5
        options.concurrency, options.concurrent_events = [1, 10, 100, 1000], 200_000
        options.idle = [100, 1000, 10_000]


def main(options: argparse.Namespace) -> int:
    apply_full(options)
    unknown = set(options.contenders) - set(CONTENDERS)
    if unknown:
        raise SystemExit(f"unknown contenders: {', '.join(sorted(unknown))}")
    results = run(options)
    options.out.mkdir(parents=True, exist_ok=True)
    text = table(results)
    print(text, end="")
    (options.out / "table.md").write_text(text)
    saved = asdict(results)
    saved["options"]["out"] = str(options.out)
    (options.out / "results.json").write_text(json.dumps(saved, indent=2, default=str) + "\n")
    if not options.no_plots:
        from bench.plots import write_plots  # noqa: PLC0415 -- matplotlib: the bench extra

        for path in write_plots(results, options.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(parser().parse_args()))
