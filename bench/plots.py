"""The SSE bench's plots (PNG, matplotlib's Agg backend, the ``bench`` extra).

* ``sse_events_per_second.png``: events per second of one stream, per contender
  (the median, and the rounds' range);
* ``sse_concurrency.png``: aggregate events per second, server CPU per event and
  the slowest stream's first byte, against concurrent streams;
* ``sse_idle_memory.png``: the server's resident memory against open idle streams.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bench.suite import median

if TYPE_CHECKING:
    from bench.suite import Results


def write_plots(results: Results, out: Path) -> list[Path]:
    """Write the plots of *results* into *out*; the paths written."""
    written = []
    names = list(results.single)
    colours = {name: f"C{index}" for index, name in enumerate(names)}
    note = f"load average {results.load_before[0]:.2f} → {results.load_after[0]:.2f}"

    figure, axes = plt.subplots(figsize=(8, 4.5))
    rates = [median(results.single[name], "events_per_s") for name in names]
    lows = [min(row["events_per_s"] for row in results.single[name]) for name in names]
    highs = [max(row["events_per_s"] for row in results.single[name]) for name in names]
    errors = [
        [r - lo for r, lo in zip(rates, lows, strict=True)],
        [hi - r for r, hi in zip(rates, highs, strict=True)],
    ]
    axes.bar(names, rates, yerr=errors, color=[colours[name] for name in names], capsize=4)
    axes.set_ylabel("events per second (one stream)")
    axes.set_title(f"SSE, {results.options['events']:,} events of {results.options['size']} B")
    axes.tick_params(axis="x", rotation=20)
    figure.text(0.99, 0.01, note, ha="right", fontsize=8)
    figure.tight_layout()
    written.append(_save(figure, out / "sse_events_per_second.png"))

    if results.concurrent:
        figure, panes = plt.subplots(1, 3, figsize=(14, 4.5))
        keys = [
            ("events_per_s", "aggregate events per second"),
            ("cpu_us_per_event", "server CPU µs per event"),
            ("slowest_first_byte_ms", "slowest first byte (ms)"),
        ]
        for pane, (key, label) in zip(panes, keys, strict=True):
            for name, levels in results.concurrent.items():
                xs = sorted(int(level) for level in levels)
                ys = [median(levels[str(x)], key) for x in xs]
                pane.plot(xs, ys, marker="o", label=name, color=colours[name])
            pane.set_xscale("log")
            pane.set_xlabel("concurrent streams")
            pane.set_ylabel(label)
            if key == "slowest_first_byte_ms":
                pane.set_yscale("log")
        panes[0].legend(fontsize=8)
        figure.text(0.99, 0.01, note, ha="right", fontsize=8)
        figure.tight_layout()
        written.append(_save(figure, out / "sse_concurrency.png"))

    if results.idle:
        figure, axes = plt.subplots(figsize=(8, 4.5))
        for name, rows in results.idle.items():
            streams = [row["streams"] for row in rows]
            mib = [row["rss_kib"] / 1024 for row in rows]
            axes.plot(streams, mib, marker="o", label=name, color=colours.get(name))
        axes.set_xlabel("open idle streams")
        axes.set_ylabel("server RSS (MiB)")
        axes.set_title("memory of idle SSE streams")
        axes.legend(fontsize=8)
        figure.text(0.99, 0.01, note, ha="right", fontsize=8)
        figure.tight_layout()
        written.append(_save(figure, out / "sse_idle_memory.png"))
    return written


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
