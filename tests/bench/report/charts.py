"""Draws the report's SVG charts with matplotlib (Agg backend, Debian's
python3-matplotlib): ratios to raw libuv per workload, W11 throughput and
latency by message size, W11's bulk echo against raw libuv and its goals, and
the game loop's frame times against the budget. Each series carries an SVG id
("ratio-<impl>-<workload>", "w11-mbps-<impl>", "bulk-cpu-<impl>",
"frames-cdf-all", ...) so a test can find it. Single-threaded; each function
writes one file and closes its figure.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from records import BASELINE, impl_sort_key, message_bytes  # noqa: E402
import bulk  # noqa: E402

matplotlib.rcParams.update({
    "svg.fonttype": "none",  # text stays text: smaller files, searchable labels
    "svg.hashsalt": "weft-report",  # the same input draws the same file
    "font.size": 9,
})

COLOURS = {"weft": "#1f77b4", "weft-spin-off": "#9467bd", "weft-c": "#2ca02c", "weft-c-hook": "#17becf",
           "libuv": "#7f7f7f", "epoll": "#ff7f0e"}


def colour(impl):
    return COLOURS.get(impl, "#d62728")


def save(figure, path, rect=(0, 0, 1, 1)):
    """Writes the figure (laid out within `rect`, figure fractions) and closes it."""
    figure.tight_layout(rect=rect)
    figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)


def ratios_chart(capture, path):
    """Horizontal bars: each impl's time per op ÷ raw libuv's, per workload (log scale)."""
    workloads = [w for w in capture.workloads() if capture.median(BASELINE, w, "ns_per_op") is not None]
    impls = sorted({i for w in workloads for i in capture.impls(w) if i != BASELINE}, key=impl_sort_key)
    figure, axes = plt.subplots(figsize=(8.5, 0.5 + 0.45 * max(1, len(workloads)) * max(1, len(impls)) ** 0.5))
    height = 0.8 / max(1, len(impls))
    values = []
    for k, impl in enumerate(impls):
        for row, w in enumerate(workloads):
            ratio = capture.ratio_to_baseline(impl, w)
            if ratio is None:
                continue
            values.append(ratio)
            y = row + (k - (len(impls) - 1) / 2) * height
            bar = axes.barh(y, ratio, height=height, color=colour(impl),
                            label=impl if not any(t == impl for t in axes.get_legend_handles_labels()[1]) else None)
            bar.patches[0].set_gid(f"ratio-{impl}-{w}")
            axes.annotate(f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×", (ratio, y), xytext=(3, 0), textcoords="offset points",
                          va="center", fontsize=7)
    axes.axvline(1.0, color="black", linewidth=0.8).set_gid("ratio-parity")
    axes.set_yticks(range(len(workloads)), workloads)
    axes.invert_yaxis()
    if values and max(values) / min(values) > 20:
        axes.set_xscale("log")
    axes.set_xlim(left=min(values + [1.0]) / 1.5 if axes.get_xscale() == "log" else 0,
                  right=max(values + [1.0]) * 1.35)
    axes.set_xlabel("time per operation ÷ raw libuv's, same run (below 1: faster)")
    axes.set_title("weft against raw libuv")
    if impls:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    save(figure, path)


def size_labels(sizes):
    return [f"{s // 1048576} MiB" if s >= 1048576 else f"{s // 1024} KiB" if s >= 1024 else f"{s} B"
            for s in sizes]


def echo_chart(capture, path):
    """W11: MB/s and p50/p99 latency by message size, one line per impl."""
    echo = sorted((w for w in capture.workloads() if message_bytes(w) is not None), key=message_bytes)
    impls = sorted({i for w in echo for i in capture.impls(w)}, key=impl_sort_key)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    for impl in impls:
        points = [(message_bytes(w), capture.median(impl, w, "mb_per_s"), capture.median(impl, w, "p50_us"),
                   capture.median(impl, w, "p99_us")) for w in echo if capture.median(impl, w, "mb_per_s")]
        if not points:
            continue
        sizes = [p[0] for p in points]
        line, = left.plot(sizes, [p[1] for p in points], marker="o", color=colour(impl), label=impl)
        line.set_gid(f"w11-mbps-{impl}")
        line, = right.plot(sizes, [p[2] for p in points], marker="o", color=colour(impl), label=f"{impl} p50")
        line.set_gid(f"w11-p50-{impl}")
        line, = right.plot(sizes, [p[3] for p in points], marker="s", linestyle="--", color=colour(impl),
                           label=f"{impl} p99")
        line.set_gid(f"w11-p99-{impl}")
    sizes = sorted({message_bytes(w) for w in echo})
    for axes in (left, right):
        axes.set_xscale("log", base=2)
        axes.set_xticks(sizes, size_labels(sizes))
        axes.minorticks_off()
        axes.set_xlabel("message size")
        axes.grid(True, alpha=0.3)
    left.set_yscale("log")
    left.set_ylabel("MB/s (echoed payload)")
    left.set_title("W11 throughput, 64 connections")
    right.set_yscale("log")
    right.set_ylabel("round-trip latency, µs")
    right.set_title("W11 latency")
    left.legend(fontsize=8)
    right.legend(fontsize=7)
    save(figure, path)


def bulk_chart(capture, path):
    """W11's bulk echo: MB/s, server CPU per message and p99, each ÷ raw
    libuv's, by message size (evenly spaced), one line per server, with the
    goals' bounds."""
    workloads = bulk.workloads(capture)
    sizes = sorted({bulk.message_bytes(w) for w in workloads})
    position = {size: k for k, size in enumerate(sizes)}
    impls = sorted({i for w in workloads for i in capture.impls(w) if i != BASELINE}, key=impl_sort_key)
    figure, panels = plt.subplots(1, 3, figsize=(11, 4))
    keys = {"mb_per_s": "mbps", "server_cpu_us_per_rt": "cpu", "p99_us": "p99"}
    titles = {"mb_per_s": "MB/s ÷ libuv", "server_cpu_us_per_rt": "server CPU per message ÷ libuv",
              "p99_us": "p99 latency ÷ libuv"}
    bounds = {"min": "≥", "max": "≤"}
    for axes, (field, _, kind, limit) in zip(panels, bulk.FIELDS):
        title = titles[field]
        values = [limit, 1.0]
        for impl in impls:
            points = [(position[bulk.message_bytes(w)], capture.ratio_to_baseline(impl, w, field)) for w in workloads]
            points = [p for p in points if p[1] is not None]
            if not points:
                continue
            values += [p[1] for p in points]
            line, = axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=colour(impl),
                              label=impl)
            line.set_gid(f"bulk-{keys[field]}-{impl}")
        axes.axhline(1.0, color="black", linewidth=0.8).set_gid(f"bulk-parity-{keys[field]}")
        # The bound over the sizes it applies to that this run measured.
        goal_sizes = [s for s, goals in bulk.GOALS.items() if s in position and any(g[0] == field for g in goals)]
        if goal_sizes:
            span = " – ".join(dict.fromkeys(size_labels([min(goal_sizes), max(goal_sizes)])))
            axes.hlines(limit, position[min(goal_sizes)] - 0.3, position[max(goal_sizes)] + 0.3, colors="#d62728",
                        linestyles=":").set_gid(f"bulk-goal-{keys[field]}")
            title += f"\ngoal (dotted): {bounds[kind]} {limit}× at {span}"
        # A log scale for a wide spread, unless a ratio is 0 (a tiny run whose
        # server CPU time stayed under the clock's grain).
        if min(values) > 0 and max(values) / min(values) > 5:
            axes.set_yscale("log")
        axes.set_xticks(range(len(sizes)), size_labels(sizes))
        axes.set_xlim(-0.5, len(sizes) - 0.5)
        axes.set_xlabel("message size")
        axes.set_title(title, fontsize=9)
        axes.grid(True, alpha=0.3)
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=max(1, len(labels)), fontsize=8)
    figure.suptitle("W11 bulk echo, independent load generator: each server ÷ raw libuv's, same run", fontsize=9)
    save(figure, path, rect=(0, 0.07, 1, 1))  # room for the legend below


def frames_chart(capture, path):
    """The game loop: a histogram of run_for per frame, and the CDF of the
    overshoot past the budget (all frames, frames not preempted)."""
    frames = capture.frames
    budget_us = frames[0]["budget_ns"] / 1e3
    run_for = [f["run_for_ns"] / 1e3 for f in frames]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    low, high = min(run_for), max(run_for)
    bins = 60
    _, _, patches = left.hist(run_for, bins=bins, range=(min(low, budget_us * 0.98), max(high, budget_us * 1.02)),
                              color=colour("weft"), log=True)
    for k, patch in enumerate(patches):
        patch.set_gid(f"frames-hist-{k}")
    left.axvline(budget_us, color="#d62728", linewidth=1.2, label=f"budget {budget_us:.0f} µs").set_gid("budget")
    left.set_xlabel("run_for per frame, µs")
    left.set_ylabel("frames (log)")
    left.set_title(f"time weft took per frame ({len(frames)} frames)")
    left.legend(fontsize=8)

    for key, subset, style in (("all", frames, "-"),
                               ("calm", [f for f in frames if not f.get("preempted")], "--")):
        over = sorted(max(0, f["run_for_ns"] - f["budget_ns"]) / 1e3 for f in subset)
        if not over:
            continue
        shares = [(k + 1) / len(over) for k in range(len(over))]
        label = "all frames" if key == "all" else "frames not preempted"
        line, = right.step(over, shares, where="post", linestyle=style, label=f"{label} ({len(over)})")
        line.set_gid(f"frames-cdf-{key}")
    right.axvline(100, color="#d62728", linewidth=1.0, linestyle=":", label="p99 goal: 100 µs").set_gid(
        "overshoot-goal")
    right.set_xscale("symlog", linthresh=10)
    right.set_xlim(left=0)
    right.set_xlabel("overshoot past the budget, µs")
    right.set_ylabel("share of frames")
    right.set_title("overshoot, cumulative")
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8, loc="upper left")
    save(figure, path)
