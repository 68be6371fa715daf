"""Tests of the benchmark report (report.py), run by //tests/bench:report_test:

- from the checked-in capture (testdata/sample.jsonl, a real short run): the
  Markdown rows carry the medians and ratios computed here independently from
  the same lines, and every SVG is well-formed XML with the series expected;
- bad input (a missing file, a line that is not JSON, an unknown line kind,
  a capture with no results) ends with a clear message and status 1;
- a tiny real run (W1 at 1/1000, 10 game frames) through the programs.

  report_test.py BENCH GAME_LOOP     (paths as Bazel passes them)
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


def sample_medians():
    samples = {}
    frames = []
    for line in open(SAMPLE):
        obj = json.loads(line)
        if "impl" in obj and "repeats" not in obj:
            samples.setdefault((obj["impl"], obj["workload"]), []).append(obj)
        elif "frame" in obj:
            frames.append(obj)
    medians = {key: {field: statistics.median(s[field] for s in runs if field in s)
                     for field in ("ns_per_op", "mb_per_s", "p50_us", "p99_us")
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


def test_tiny_run(tmp, bench, game_loop):
    out = os.path.join(tmp, "run")
    run_report("--out", out, "--bench", bench, "--game-loop", game_loop, "--only", "W1",
               "--scale", "0.001", "--repeat", "2", "--frames", "10", "--note", "a tiny run")
    capture = [json.loads(line) for line in open(os.path.join(out, "capture.jsonl"))]
    if "machine" not in capture[0] or not capture[0]["machine"].get("cpu_model"):
        fail(f"capture does not start with the machine: {capture[0]}")
    if capture[0]["machine"].get("note") != "a tiny run":
        fail("the capture does not keep --note")
    results = [c for c in capture if "impl" in c and "repeats" not in c]
    if sorted({(c["impl"], c["workload"]) for c in results}) != sorted(
            {("weft", "W1_callbacks_chain"), ("weft-c", "W1_callbacks_chain"), ("libuv", "W1_callbacks_chain")}):
        fail(f"tiny run results: {results}")
    if len([c for c in capture if "frame" in c]) != 10:
        fail("tiny run: expected 10 frames")
    markdown = open(os.path.join(out, "report.md")).read()
    if [row[0] for row in table_rows(markdown, "## weft against raw libuv")] != ["W1_callbacks_chain"]:
        fail("tiny run: summary table")
    if "- Run: bench --repeat 2 --scale 0.001 --only W1; game loop: 10 frames" not in markdown:
        fail("tiny run: the run line")
    if "\n- a tiny run\n" not in markdown:
        fail("tiny run: the note")
    for chart in ("ratios.svg", "frame_times.svg"):
        svg_ids(os.path.join(out, chart))


def main():
    if len(sys.argv) != 3:
        fail("usage: report_test.py BENCH GAME_LOOP")
    with tempfile.TemporaryDirectory(prefix="report-test-", dir=os.environ.get("TEST_TMPDIR")) as tmp:
        test_from_sample(tmp)
        test_bad_input(tmp)
        test_tiny_run(tmp, os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
    print("report_test: all passed")


if __name__ == "__main__":
    main()
