"""What disconnect detection costs, and how far a producer runs on after the client left.

For three ways of streaming a producer that never awaits (the case that starves
a server), served by uvicorn in a process of its own on 127.0.0.1:

* ``plain``: Starlette's StreamingResponse (tests/broken/cancel_apps.py);
* ``polling``: ``await request.is_disconnected()`` before every item (the source document);
* ``reference``: impl.streaming.StreamResponse (one waiting task, a checkpoint every 16 items).

it measures the throughput of a client reading 200,000 items to the end; the
items produced after a client that read the first chunk closed its connection
(of at most 500,000); and how long the next request waited for an answer.
Run: ``python -m bench.cancel_cost [--items 200000] [--limit 500000] [--targets
plain,polling,reference]`` (prints a table; about two minutes with the
defaults, most of it the plain response running on alone).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import anyio
import httpx

from spec.targets.process import free_port, run_child, uvicorn_command

TARGETS = {
    "plain": "tests.broken.cancel_apps:plain",
    "polling": "tests.broken.cancel_apps:polling",
    "reference": "impl.app:app",
}
ITEMS = 200_000
LIMIT = 500_000


async def measure(target: str, items: int = ITEMS, limit: int = LIMIT) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with run_child(uvicorn_command(target, port)) as child:
        await child.wait_for_line("Uvicorn running")
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            params = {"id": "throughput", "kind": "busy", "limit": str(items)}
            started = time.perf_counter()
            received = 0
            async with client.stream("GET", "/conformance/endless", params=params) as response:
                async for chunk in response.aiter_raw():
                    received += chunk.count(b"\n")
            elapsed = time.perf_counter() - started
            assert received == items, received
            params = {"id": "overshoot", "kind": "busy", "limit": str(limit)}
            async with client.stream("GET", "/conformance/endless", params=params) as response:
                async for chunk in response.aiter_raw():
                    read = chunk.count(b"\n")
                    break
            # The next request waits while the server is busy with the abandoned stream.
            asked = time.perf_counter()
            answer = await client.get(
                "/conformance/observe",
                params={"id": "overshoot", "until": "cleanup", "timeout": "10"},
            )
            waited = time.perf_counter() - asked
            facts = json.loads(answer.content)
        return {
            "items/s": items / elapsed,
            "after disconnect": facts["produced"] - read,
            "cleanup": facts["cleanup"],
            "next request waited": waited,
        }


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="python -m bench.cancel_cost", description=__doc__.splitlines()[0]
    )
    command.add_argument("--items", type=int, default=ITEMS, help="items of the throughput run")
    command.add_argument(
        "--limit", type=int, default=LIMIT, help="items an abandoned producer may make at most"
    )
    command.add_argument(
        "--targets",
        type=lambda text: text.split(","),
        default=list(TARGETS),
        help=f"comma-separated, of: {', '.join(TARGETS)} (default: all)",
    )
    return command


async def main(options: argparse.Namespace) -> None:
    unknown = set(options.targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}")
    print(
        f"{'response':<10} {'items/s':>10} {'items after disconnect':>23}"
        f" {'cleanup ran':>12} {'next request waited':>20}"
    )
    for name in options.targets:
        result = await measure(TARGETS[name], options.items, options.limit)
        print(
            f"{name:<10} {result['items/s']:>10,.0f} {result['after disconnect']:>23,}"
            f" {result['cleanup']!s:>12} {result['next request waited']:>19.3f}s"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    anyio.run(main, parser().parse_args())
