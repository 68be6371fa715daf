"""Tests of the benchmark report (report.py), run by //tests/bench:report_test:

- from the checked-in capture (testdata/sample.jsonl, a real short run): the
  Markdown rows carry the medians and ratios computed here independently from
  the same lines, and every SVG is well-formed XML with the series expected;
- from a second real capture with the bulk echo (testdata/bulk_sample.jsonl):
  its table's ratios to libuv and the goals' verdicts, worked out here again,
  and its chart's series and bounds;
- bad input (a missing file, a line that is not JSON, an unknown line kind,
  a capture with no results, no bulk echo to run) ends with a clear message;
- a tiny real run (W1 at 1/1000, the bulk echo at two sizes, 10 game frames)
  through the programs, and one whose bulk echo has a server that cannot start.

  report_test.py BENCH GAME_LOOP --bulk-echo PATH --bulk-server IMPL=PATH...
  (paths as Bazel passes them)
Single-threaded; each report runs as a child process with its own directory.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "report.py")
SAMPLE = os.path.join(HERE, "testdata", "sample.jsonl")
BULK_SAMPLE = os.path.join(HERE, "testdata", "bulk_sample.jsonl")
SVG = "{http://www.w3.org/2000/svg}"


def fail(message):
    sys.exit("report_test: " + message)


def run_report(*args, expect_status=0):
    env = {k: v for k, v in os.environ.items() if k not in ("BUILD_WORKING_DIRECTORY", "BUILD_WORKSPACE_DIRECTORY")}
    done = subprocess.run([sys.executable, REPORT, *args], capture_output=True, text=True, timeout=300, env=env)
    if done.returncode != expect_status:
        fail(f"report {' '.join(args)} exited {done.returncode}, expected {expect_status}\n{done.stderr}")
    return done.stderr


def table_rows(markdown, heading):
    """The rows (lists of cells) of the first table after `heading`."""
    lines = markdown.splitlines()
    if heading not in lines:
        fail(f"no heading {heading!r} in report.md")
    rows = []
    for line in lines[lines.index(heading) + 1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # past the header and the |---| line


def close(text, expected, what):
    value = float(text.replace(",", "").rstrip("×"))
    if abs(value - expected) > 0.006 * abs(expected) + 0.0051:
        fail(f"{what}: report says {text}, the sample gives {expected:.4g}")


def svg_ids(path):
    root = ET.parse(path).getroot()  # raises on malformed XML
    if root.tag != SVG + "svg":
        fail(f"{path}: root element is {root.tag}")
    return {element.get("id") for element in root.iter() if element.get("id")}


def sample_medians(path=SAMPLE):
    samples = {}
    frames = []
    for line in open(path):
        obj = json.loads(line)
        if "impl" in obj and "repeats" not in obj:
            samples.setdefault((obj["impl"], obj["workload"]), []).append(obj)
        elif "frame" in obj:
            frames.append(obj)
    medians = {key: {field: statistics.median(s[field] for s in runs if field in s)
                     for field in ("ns_per_op", "mb_per_s", "p50_us", "p99_us", "server_cpu_us_per_rt")
                     if any(field in s for s in runs)}
               for key, runs in samples.items()}
    return medians, frames


def test_from_sample(tmp):
    out = os.path.join(tmp, "from-sample")
    run_report("--out", out, "--from", SAMPLE)
    markdown = open(os.path.join(out, "report.md")).read()
    medians, frames = sample_medians()
    if "- Machine: " not in markdown or "- Date: " not in markdown or "- Load average" not in markdown:
        fail("report.md lacks the machine facts")

    # The summary: one row per workload that ran on raw libuv, with both medians and the ratio.
    expected = sorted({w for impl, w in medians if impl == "libuv"})
    rows = table_rows(markdown, "## weft against raw libuv")
    if sorted(row[0] for row in rows) != expected:
        fail(f"summary rows {[r[0] for r in rows]}, expected {expected}")
    for row in rows:
        weft, libuv = medians[("weft", row[0])]["ns_per_op"], medians[("libuv", row[0])]["ns_per_op"]
        close(row[1], weft, f"{row[0]} weft ns/op")
        close(row[2], libuv, f"{row[0]} libuv ns/op")
        close(row[3], weft / libuv, f"{row[0]} weft ÷ libuv")

    # One table per workload, one row per impl.
    for workload in sorted({w for _, w in medians}):
        rows = table_rows(markdown, f"### {workload}")
        impls = sorted(row[0] for row in rows)
        if impls != sorted(impl for impl, w in medians if w == workload):
            fail(f"{workload}: rows for {impls}")
        for row in rows:
            close(row[1], medians[(row[0], workload)]["ns_per_op"], f"{workload} {row[0]} ns/op")

    # W11 by message size: 64 B and 16 KiB for every impl that ran them.
    rows = table_rows(markdown, "## W11 TCP echo by message size")
    sizes = {"64 B": "W11_tcp_echo", "16 KiB": "W11_tcp_echo_16k"}
    if sorted((r[0], r[1]) for r in rows) != sorted((size, impl) for size, w in sizes.items()
                                                    for impl, name in medians if name == w):
        fail(f"W11 rows: {[(r[0], r[1]) for r in rows]}")
    for row in rows:
        m = medians[(row[1], sizes[row[0]])]
        close(row[2], m["mb_per_s"], f"{row} MB/s")
        close(row[4], m["p50_us"], f"{row} p50")
        close(row[5], m["p99_us"], f"{row} p99")

    # The game loop: frame counts as the sample has them.
    rows = table_rows(markdown, "## Game loop frame times")
    calm = [f for f in frames if not f["preempted"]]
    if [rows[0][0], rows[0][1], rows[1][0], rows[1][1]] != ["all frames", str(len(frames)),
                                                          "frames not preempted", str(len(calm))]:
        fail(f"frame rows: {rows}")
    run_for = sorted(f["run_for_ns"] / 1e3 for f in frames)
    close(rows[0][3], run_for[(len(run_for) - 1) * 99 // 100], "frame run_for p99")

    # The charts: valid SVG with the series expected.
    ids = svg_ids(os.path.join(out, "ratios.svg"))
    for impl, w in medians:
        if impl != "libuv" and ("libuv", w) in medians and f"ratio-{impl}-{w}" not in ids:
            fail(f"ratios.svg lacks the bar ratio-{impl}-{w}")
    if "ratio-parity" not in ids:
        fail("ratios.svg lacks the parity line")
    ids = svg_ids(os.path.join(out, "w11_echo.svg"))
    for impl in {impl for impl, w in medians if w.startswith("W11_tcp_echo")}:
        for series in ("mbps", "p50", "p99"):
            if f"w11-{series}-{impl}" not in ids:
                fail(f"w11_echo.svg lacks w11-{series}-{impl}")
    ids = svg_ids(os.path.join(out, "frame_times.svg"))
    for gid in ("budget", "frames-cdf-all", "frames-cdf-calm", "overshoot-goal", "frames-hist-0"):
        if gid not in ids:
            fail(f"frame_times.svg lacks {gid}")
    # The report links each chart it wrote.
    for chart in ("ratios.svg", "w11_echo.svg", "frame_times.svg"):
        if f"]({chart})" not in markdown:
            fail(f"report.md does not show {chart}")


def expected_verdict(size, mbps, cpu, p99):
    """The round-2 goals, written out again: at 16 KiB, 64 KiB and 1 MiB
    MB/s >= 0.95x and CPU <= 1.1x libuv's; at 16 KiB p99 <= 1.2x too."""
    if size == "64 B":
        return "—"
    missed = []
    if mbps < 0.95:
        missed.append("MB/s")
    if cpu > 1.1:
        missed.append("server CPU")
    if size == "16 KiB" and p99 > 1.2:
        missed.append("p99")
    return missed


def test_bulk_from_sample(tmp):
    out = os.path.join(tmp, "from-bulk-sample")
    run_report("--out", out, "--from", BULK_SAMPLE)
    markdown = open(os.path.join(out, "report.md")).read()
    medians, _ = sample_medians(BULK_SAMPLE)
    names = {"64 B": "W11_tcp_echo_ext_64", "16 KiB": "W11_tcp_echo_ext_16k", "64 KiB": "W11_tcp_echo_ext_64k",
             "1 MiB": "W11_tcp_echo_ext_1m"}
    rows = table_rows(markdown, "## W11 bulk echo: an independent load generator")
    expected = sorted((size, impl) for size, w in names.items() for impl, name in medians if name == w)
    if sorted((r[0], r[1]) for r in rows) != expected or len(expected) != 16:
        fail(f"bulk rows: {[(r[0], r[1]) for r in rows]}")
    verdicts = set()
    for row in rows:
        size, impl = row[0], row[1]
        mine, base = medians[(impl, names[size])], medians[("libuv", names[size])]
        ratios = {field: mine[field] / base[field] for field in ("mb_per_s", "server_cpu_us_per_rt", "p99_us")}
        close(row[2], mine["mb_per_s"], f"{row[:2]} MB/s")
        close(row[3], ratios["mb_per_s"], f"{row[:2]} MB/s ÷ libuv")
        close(row[4], mine["server_cpu_us_per_rt"], f"{row[:2]} CPU")
        close(row[5], ratios["server_cpu_us_per_rt"], f"{row[:2]} CPU ÷ libuv")
        close(row[6], mine["p99_us"], f"{row[:2]} p99")
        close(row[7], ratios["p99_us"], f"{row[:2]} p99 ÷ libuv")
        if impl == "libuv":
            if row[8] != "":
                fail(f"the baseline has a verdict: {row}")
            continue
        want = expected_verdict(size, ratios["mb_per_s"], ratios["server_cpu_us_per_rt"], ratios["p99_us"])
        if want == "—" or want == []:
            if row[8] != ("—" if want == "—" else "met"):
                fail(f"{row[:2]}: verdict {row[8]!r}, expected {'—' if want == '—' else 'met'}")
        else:
            said = row[8].removeprefix("missed: ").split(", ")
            if not row[8].startswith("missed: ") or [part.split(" by ")[0] for part in said] != want:
                fail(f"{row[:2]}: verdict {row[8]!r}, expected misses {want}")
            for part in said:  # "MB/s by 5.9 %": the shortfall against the bound
                title, amount = part.split(" by ")
                bound, value = {"MB/s": (0.95, ratios["mb_per_s"]), "server CPU": (1.1, ratios["server_cpu_us_per_rt"]),
                                "p99": (1.2, ratios["p99_us"])}[title]
                share = (1 - value / bound) if title == "MB/s" else (value / bound - 1)
                amount = amount.removesuffix(" %")
                rounding = 0.05 if "." in amount else 0.5  # one decimal under 10 %, none above
                if abs(float(amount) - 100 * share) > rounding + 1e-6:
                    fail(f"{row[:2]}: {title} missed by {amount} %, the sample gives {100 * share:.3f} %")
        verdicts.add("met" if row[8] == "met" else row[8][:6])
    if not {"met", "missed"} <= verdicts:
        fail(f"the bulk sample should show both verdicts, shows {verdicts}")
    ids = svg_ids(os.path.join(out, "w11_bulk.svg"))
    for impl in ("weft", "weft-c", "epoll"):
        for series in ("mbps", "cpu", "p99"):
            if f"bulk-{series}-{impl}" not in ids:
                fail(f"w11_bulk.svg lacks bulk-{series}-{impl}")
    for gid in ("bulk-goal-mbps", "bulk-goal-cpu", "bulk-goal-p99", "bulk-parity-mbps"):
        if gid not in ids:
            fail(f"w11_bulk.svg lacks {gid}")
    if any(gid.startswith("bulk-") and gid.endswith("-libuv") for gid in ids):
        fail("w11_bulk.svg draws the baseline against itself")
    if "](w11_bulk.svg)" not in markdown:
        fail("report.md does not show w11_bulk.svg")


def test_bulk_zero_ratio(tmp):
    """A bulk run whose server CPU came out 0 (under the clock's grain, as in
    tiny runs): the report is still written, the ratio shown as 0."""
    path = os.path.join(tmp, "zero-cpu.jsonl")
    with open(path, "w") as f:
        for line in open(BULK_SAMPLE):
            obj = json.loads(line)
            if obj.get("impl") == "weft" and obj.get("workload") == "W11_tcp_echo_ext_1m":
                obj["server_cpu_us_per_rt"] = 0
            f.write(json.dumps(obj) + "\n")
    out = os.path.join(tmp, "zero-cpu")
    run_report("--out", out, "--from", path)
    rows = table_rows(open(os.path.join(out, "report.md")).read(), "## W11 bulk echo: an independent load generator")
    row = next(r for r in rows if r[:2] == ["1 MiB", "weft"])
    if row[4] != "0" or row[5] != "0×":
        fail(f"zero server CPU: row {row}")
    if "bulk-cpu-weft" not in svg_ids(os.path.join(out, "w11_bulk.svg")):
        fail("zero server CPU: the chart lacks bulk-cpu-weft")


def test_bad_input(tmp):
    out = os.path.join(tmp, "bad")
    message = run_report("--out", out, "--from", os.path.join(tmp, "missing.jsonl"), expect_status=1)
    if "missing.jsonl" not in message:
        fail(f"missing file: unclear message {message!r}")
    cases = {
        "not-json.jsonl": ('{"impl":"weft"\n', "not JSON"),
        "unknown.jsonl": ('{"colour":"blue"}\n', "not a machine, benchmark, frame or failure line"),
        "no-time.jsonl": ('{"impl":"weft","workload":"W1_callbacks_chain","n":1}\n', "positive ns_per_op"),
        "empty.jsonl": ('{"machine":{}}\n', "no benchmark results"),
    }
    for name, (text, expected) in cases.items():
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        message = run_report("--out", out, "--from", path, expect_status=1)
        if expected not in message or f"{name}:" not in message and name != "empty.jsonl":
            fail(f"{name}: expected {expected!r} with the line, got {message!r}")
    if os.path.exists(os.path.join(out, "report.md")):
        fail("a failed report still wrote report.md")
    run_report("--out", out, "--from", SAMPLE, "--scale", "0.1", expect_status=2)
    message = run_report("--out", out, "--bench", "bench", "--no-game-loop", expect_status=2)
    if "--bulk-echo and --bulk-server are needed" not in message:
        fail(f"no bulk echo: unclear message {message!r}")
    for option, value, expected in (("--bulk-sizes", "64,2k", "2k is not one of 64, 16k, 64k, 1m"),
                                    ("--bulk-scale", "0", "--bulk-scale must be a positive number"),
                                    ("--bulk-scale", "lots", "--bulk-scale must be a positive number")):
        message = run_report("--out", out, "--bench", "bench", "--no-game-loop", "--no-bulk", option, value,
                             expect_status=2)
        if expected not in message:
            fail(f"{option} {value}: unclear message {message!r}")


def test_tiny_run(tmp, bench, game_loop, bulk_args):
    out = os.path.join(tmp, "run")
    run_report("--out", out, "--bench", bench, "--game-loop", game_loop, "--only", "W1",
               "--scale", "0.001", "--repeat", "2", "--frames", "10", "--note", "a tiny run",
               "--bulk-sizes", "64,1m", "--bulk-scale", "0.001", *bulk_args)
    capture = [json.loads(line) for line in open(os.path.join(out, "capture.jsonl"))]
    if "machine" not in capture[0] or not capture[0]["machine"].get("cpu_model"):
        fail(f"capture does not start with the machine: {capture[0]}")
    if capture[0]["machine"].get("note") != "a tiny run":
        fail("the capture does not keep --note")
    results = [c for c in capture if "impl" in c and "repeats" not in c]
    servers = sorted(arg.split("=", 1)[0] for arg in bulk_args if "=" in arg)
    expected = {("weft", "W1_callbacks_chain"), ("weft-c", "W1_callbacks_chain"), ("libuv", "W1_callbacks_chain")}
    expected |= {(impl, w) for impl in servers for w in ("W11_tcp_echo_ext_64", "W11_tcp_echo_ext_1m")}
    if sorted({(c["impl"], c["workload"]) for c in results}) != sorted(expected) or "libuv" not in servers:
        fail(f"tiny run results: {sorted({(c['impl'], c['workload']) for c in results})}")
    if len([c for c in capture if "frame" in c]) != 10:
        fail("tiny run: expected 10 frames")
    markdown = open(os.path.join(out, "report.md")).read()
    if [row[0] for row in table_rows(markdown, "## weft against raw libuv")] != [
            "W1_callbacks_chain", "W11_tcp_echo_ext_1m", "W11_tcp_echo_ext_64"]:
        fail("tiny run: summary table")
    if ("- Run: bench --repeat 2 --scale 0.001 --only W1; bulk echo: bulk_echo --sizes 64,1m --repeat 2 "
            "--scale 0.001; game loop: 10 frames") not in markdown:
        fail("tiny run: the run line")
    sizes = [row[0] for row in table_rows(markdown, "## W11 bulk echo: an independent load generator")]
    if sorted(set(sizes)) != ["1 MiB", "64 B"] or len(sizes) != 2 * len(servers):
        fail(f"tiny run: bulk rows {sizes}")
    if "\n- a tiny run\n" not in markdown:
        fail("tiny run: the note")
    for chart in ("ratios.svg", "frame_times.svg", "w11_bulk.svg"):
        svg_ids(os.path.join(out, chart))


def test_bulk_failure(tmp, bench, bulk_args):
    """A bulk echo server that cannot start: the others' results are kept, the
    failure is listed in the report, and the report ends with status 1."""
    out = os.path.join(tmp, "bulk-failure")
    libuv = next(arg for arg in bulk_args if arg.startswith("libuv="))
    message = run_report("--out", out, "--bench", bench, "--no-game-loop", "--only", "W1", "--scale", "0.001",
                         "--repeat", "1", "--bulk-sizes", "64", "--bulk-scale", "0.001",
                         "--bulk-echo", bulk_args[bulk_args.index("--bulk-echo") + 1],
                         "--bulk-server", libuv, "--bulk-server", "broken=" + os.path.join(tmp, "no-such-server"),
                         expect_status=1)
    if "no-such-server" not in message:
        fail(f"bulk failure: the server's failure is not on stderr: {message!r}")
    markdown = open(os.path.join(out, "report.md")).read()
    failures = markdown.split("## Failures", 1)[-1].split("\n## ", 1)[0]
    if "## Failures" not in markdown or "broken W11_tcp_echo_ext_64" not in failures:
        fail("bulk failure: report.md does not list the server that failed")
    rows = table_rows(markdown, "## W11 bulk echo: an independent load generator")
    if [(row[0], row[1]) for row in rows] != [("64 B", "libuv")]:
        fail(f"bulk failure: rows {rows}")


def absolute_bulk_args(args):
    """--bulk-echo PATH --bulk-server IMPL=PATH... with the paths made absolute."""
    out = []
    for k, arg in enumerate(args):
        if k > 0 and args[k - 1] == "--bulk-echo":
            arg = os.path.abspath(arg)
        elif k > 0 and args[k - 1] == "--bulk-server":
            impl, path = arg.split("=", 1)
            arg = f"{impl}={os.path.abspath(path)}"
        out.append(arg)
    return out


def main():
    if len(sys.argv) < 5 or "--bulk-echo" not in sys.argv[3:] or "--bulk-server" not in sys.argv[3:]:
        fail("usage: report_test.py BENCH GAME_LOOP --bulk-echo PATH --bulk-server IMPL=PATH...")
    with tempfile.TemporaryDirectory(prefix="report-test-", dir=os.environ.get("TEST_TMPDIR")) as tmp:
        test_from_sample(tmp)
        test_bulk_from_sample(tmp)
        test_bulk_zero_ratio(tmp)
        test_bad_input(tmp)
        bulk_args = absolute_bulk_args(sys.argv[3:])
        test_tiny_run(tmp, os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), bulk_args)
        test_bulk_failure(tmp, os.path.abspath(sys.argv[1]), bulk_args)
    print("report_test: all passed")


if __name__ == "__main__":
    main()
