"""Writes report.md from a Capture: the machine, a summary of weft against raw
libuv, one table per workload, W11 by message size, W11's bulk echo against
its goals, the game loop's frame times, and the charts beside them. Pure text
building; single-threaded.
"""

from records import BASELINE, EXTRA_FIELDS, impl_sort_key, message_bytes
import bulk
import frames as frame_stats


def number(value):
    """Three significant figures, no exponent for everyday sizes."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def ratio_text(value):
    if value is None:
        return "—"
    return f"{value:.2f}×" if value >= 0.1 else f"{value:.2g}×"


def size_text(size):
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} B"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def machine_section(capture, run_note):
    m = capture.machine
    load_start = m.get("load_average_start")
    load_end = m.get("load_average_end")

    def load(value):
        return " / ".join(f"{x:.2f}" for x in value) if value else "unknown"

    lines = [
        "# weft benchmark report",
        "",
        f"- Date: {m.get('date_utc', 'unknown')}",
        f"- Machine: {m.get('cpu_model', 'unknown')}, {m.get('cores_online', '?')} cores online "
        f"({m.get('cores_usable', '?')} usable), Linux {m.get('kernel', 'unknown')}",
        f"- Load average (1 / 5 / 15 min): {load(load_start)} at the start, {load(load_end)} at the end",
        f"- Source: git commit {m.get('git_commit', 'unknown')}",
        f"- Build: {m.get('build', 'unknown')}",
        f"- Run: {m.get('bench_options', 'unknown')}; bulk echo: {m.get('bulk_options', 'not run')}; "
        f"game loop: {m.get('game_loop_frames', 'not run')} frames",
    ]
    for note in dict.fromkeys(n for n in (m.get("note"), run_note) if n):
        lines.append(f"- {note}")
    lines += [
        "",
        "Each figure is the median of the repeats in this run. Absolute times depend on the",
        "machine and on what else it was doing (see the load average above); compare",
        "implementations by their ratio to raw libuv measured in the same run.",
        "A ratio is the implementation's time per operation divided by raw libuv's:",
        "below 1 is faster than raw libuv.",
    ]
    return lines


def summary_section(capture):
    with_baseline = [w for w in capture.workloads() if capture.median(BASELINE, w, "ns_per_op") is not None]
    if not with_baseline:
        return ["", "## weft against raw libuv", "", "No workload in this capture ran on raw libuv."]
    others = sorted({impl for w in with_baseline for impl in capture.impls(w)
                     if impl not in ("weft", BASELINE)}, key=impl_sort_key)
    header = ["workload", "weft ns/op", "raw libuv ns/op", "weft ÷ libuv"] + [f"{i} ÷ libuv" for i in others]
    rows = []
    for w in with_baseline:
        row = [w, number(capture.median("weft", w, "ns_per_op")),
               number(capture.median(BASELINE, w, "ns_per_op")),
               ratio_text(capture.ratio_to_baseline("weft", w))]
        row += [ratio_text(capture.ratio_to_baseline(i, w)) for i in others]
        rows.append(row)
    return ["", "## weft against raw libuv", ""] + table(header, rows) + [
        "", "![Time per operation as a ratio to raw libuv](ratios.svg)"]


def workload_sections(capture):
    lines = ["", "## Every workload", ""]
    for w in capture.workloads():
        impls = capture.impls(w)
        first = capture.samples[(impls[0], w)][0]
        repeats = sorted({capture.repeats(i, w) for i in impls})
        repeat_text = "/".join(str(r) for r in repeats)
        lines += [f"### {w}", "", f"n = {first.get('n', '?')}, medians of {repeat_text} repeat(s)", ""]
        extras = [(field, title) for field, title in EXTRA_FIELDS
                  if any(capture.median(i, w, field) is not None for i in impls)]
        header = ["impl", "ns/op", "ops/s", "÷ libuv"] + [title for _, title in extras]
        rows = []
        for i in impls:
            row = [i, number(capture.median(i, w, "ns_per_op")), number(capture.median(i, w, "ops_per_s")),
                   ratio_text(capture.ratio_to_baseline(i, w))]
            row += [number(capture.median(i, w, field)) for field, _ in extras]
            rows.append(row)
        lines += table(header, rows) + [""]
    return lines


def echo_section(capture):
    echo = [w for w in capture.workloads() if message_bytes(w) is not None]
    if not echo:
        return []
    rows = []
    for w in sorted(echo, key=message_bytes):
        for i in capture.impls(w):
            rows.append([size_text(message_bytes(w)), i, number(capture.median(i, w, "mb_per_s")),
                         number(capture.median(i, w, "ops_per_s")),
                         number(capture.median(i, w, "p50_us")), number(capture.median(i, w, "p99_us")),
                         number(capture.median(i, w, "server_cpu_us_per_rt")),
                         ratio_text(capture.ratio_to_baseline(i, w))])
    header = ["message", "impl", "MB/s", "round trips/s", "p50 µs", "p99 µs", "server CPU µs/rt", "÷ libuv"]
    return ["## W11 TCP echo by message size", ""] + table(header, rows) + [
        "", "![W11 throughput and latency by message size](w11_echo.svg)", ""]


def bulk_section(capture):
    workloads = bulk.workloads(capture)
    if not workloads:
        return []
    rows = []
    for w in workloads:
        size = bulk.message_bytes(w)
        for i in capture.impls(w):
            ratios = {field: capture.ratio_to_baseline(i, w, field) for field, _, _, _ in bulk.FIELDS}
            goal = "" if i == BASELINE else (bulk.verdict(size, ratios) or "—")
            rows.append([size_text(size), i, number(capture.median(i, w, "mb_per_s")),
                         ratio_text(ratios["mb_per_s"]), number(capture.median(i, w, "server_cpu_us_per_rt")),
                         ratio_text(ratios["server_cpu_us_per_rt"]), number(capture.median(i, w, "p99_us")),
                         ratio_text(ratios["p99_us"]), goal])
    header = ["message", "server", "MB/s", "÷ libuv", "server CPU µs/msg", "÷ libuv", "p99 µs", "÷ libuv",
              "goals"]
    return ["## W11 bulk echo: an independent load generator", "",
            "Each server in a process of its own (tests/bench/bulk), 64 connections with one message in",
            "flight each; ratios are to raw libuv's server in the same run. Goals at 16 KiB, 64 KiB and",
            "1 MiB: MB/s at least 0.95× libuv's and server CPU per message at most 1.1×; at 16 KiB also",
            "p99 at most 1.2×. At 64 B the goal is \"unchanged or better\" than an earlier build, which",
            "one run cannot judge.", ""] + table(header, rows) + [
        "", "![W11 bulk echo against raw libuv by message size](w11_bulk.svg)", ""]


def frames_section(capture):
    s = frame_stats.summary(capture.frames)
    if s is None:
        return ["## Game loop frame times", "", "The game loop was not run for this capture.", ""]
    lines = [
        "## Game loop frame times", "",
        f"examples/game_loop: a {s['frame_us'] / 1e3:.2f} ms frame, weft given run_for({s['budget_us']:.0f} µs) "
        f"in each while game code keeps it busy; {s['all']['frames']} frames, {s['preempted']} of them "
        f"preempted by the kernel, {s['blocked']} in which the thread blocked, {s['paused']} with game time paused.",
        "",
    ]
    rows = []
    for key, title in (("all", "all frames"), ("calm", "frames not preempted")):
        part = s[key]
        if part is None:
            rows.append([title, "0"] + ["—"] * 6)
            continue
        rows.append([title, str(part["frames"]), number(part["run_for_p50_us"]), number(part["run_for_p99_us"]),
                     number(part["run_for_max_us"]), number(part["overshoot_p50_us"]),
                     number(part["overshoot_p99_us"]), str(part["over_budget_frames"])])
    header = ["frames", "count", "run_for p50 µs", "p99 µs", "max µs", "overshoot p50 µs", "overshoot p99 µs",
              "over budget"]
    return lines + table(header, rows) + ["", "![Game loop frame times against the budget](frame_times.svg)", ""]


def failures_section(capture):
    if not capture.failures:
        return []
    return ["## Failures", "", "These workloads failed their own checks and have no figures:", ""] + [
        f"- `{message}`" for message in capture.failures] + [""]


def render(capture, run_note=""):
    lines = machine_section(capture, run_note) + summary_section(capture) + [""]
    lines += echo_section(capture) + bulk_section(capture) + frames_section(capture) + failures_section(capture)
    lines += workload_sections(capture)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
