"""weft's benchmark report: runs the benchmark program (tests/bench), the bulk
echo (tests/bench/bulk) and the game loop (examples/game_loop), or reads a
saved capture, and writes
  DIR/report.md        the machine, tables per workload, ratios to raw libuv
  DIR/ratios.svg       time per operation ÷ raw libuv's, per workload
  DIR/w11_echo.svg     W11 MB/s and p50/p99 by message size
  DIR/w11_bulk.svg     W11's bulk echo ÷ raw libuv's by message size, with its goals
  DIR/frame_times.svg  the game loop's run_for per frame against its budget
  DIR/capture.jsonl    what the run printed (feed it back with --from)

  bazel run --config=opt //tests/bench:report -- --out DIR [--scale X] [--only W1]...
      [--repeat K] [--bulk-sizes 64,16k,64k,1m] [--bulk-scale X] [--frames N]
  bazel run //tests/bench:report -- --out DIR --from capture.jsonl

Runs on the main thread; the programs it starts run one at a time.
"""

import argparse
import os
import sys

# The modules beside this file, however it was started.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bulk  # noqa: E402
import machine  # noqa: E402
import markdown  # noqa: E402
import records  # noqa: E402
import runner  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="report", description="weft's benchmark report (Markdown + SVG)")
    parser.add_argument("--out", required=True, help="directory to write report.md and the charts into")
    parser.add_argument("--from", dest="source", metavar="FILE",
                        help="build the report from a saved capture instead of running anything")
    parser.add_argument("--bench", help="the benchmark program (set by the Bazel target)")
    parser.add_argument("--game-loop", help="the game loop example (set by the Bazel target)")
    parser.add_argument("--bulk-echo", help="the bulk echo's load generator (set by the Bazel target)")
    parser.add_argument("--bulk-server", action="append", default=[], metavar="IMPL=PATH",
                        help="a server for the bulk echo (set by the Bazel target); repeatable")
    parser.add_argument("--bulk-sizes", default="64,16k,64k,1m",
                        help="the bulk echo's message sizes (default 64,16k,64k,1m)")
    parser.add_argument("--bulk-scale", default="1", help="the bulk echo's --scale (default 1)")
    parser.add_argument("--no-bulk", action="store_true", help="do not run the bulk echo")
    parser.add_argument("--scale", help="passed to the benchmark: multiply every N by X")
    parser.add_argument("--only", action="append", default=[], help="passed to the benchmark; repeatable")
    parser.add_argument("--repeat", type=int, default=3, help="passed to the benchmark (default 3)")
    parser.add_argument("--frames", type=int, default=600, help="game loop frames at 60 fps (default 600)")
    parser.add_argument("--no-game-loop", action="store_true", help="do not run the game loop")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds each program may run (default 3600)")
    parser.add_argument("--note", default="",
                        help="a line added under the machine facts (kept in the capture; with --from, shown too)")
    args = parser.parse_args(argv)
    if args.source and (args.scale or args.only):
        parser.error("--scale and --only choose what to run; they do not apply to --from")
    if not args.source and not args.no_bulk and not (args.bulk_echo and args.bulk_server):
        parser.error("--bulk-echo and --bulk-server are needed to run the bulk echo (or give --no-bulk)")
    unknown = [size for size in args.bulk_sizes.split(",") if size not in bulk.SIZES]
    if unknown:
        parser.error(f"--bulk-sizes: {', '.join(unknown)} is not one of {', '.join(bulk.SIZES)}")
    try:
        scale = float(args.bulk_scale)
    except ValueError:
        scale = 0
    if not scale > 0:
        parser.error(f"--bulk-scale must be a positive number, not {args.bulk_scale!r}")
    if not args.source and not args.bench:
        parser.error("--bench is needed to run the benchmark (or give --from FILE)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.frames < 10:
        parser.error("--frames must be at least 10")
    if args.timeout < 1:
        parser.error("--timeout must be positive")
    return args


def user_path(path):
    """A path the user typed, relative to where they ran `bazel run`."""
    return os.path.join(os.environ.get("BUILD_WORKING_DIRECTORY", ""), path)


def run_capture(args):
    """Runs everything; returns (capture lines, exit status to end with)."""
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    facts = machine.describe(workspace)
    passthrough = ["--repeat", str(args.repeat)]
    if args.scale:
        passthrough += ["--scale", args.scale]
    for name in args.only:
        passthrough += ["--only", name]
    bench_lines, failures, optimised = runner.run_bench(args.bench, passthrough, args.timeout)
    bulk_options = ["--sizes", args.bulk_sizes, "--repeat", str(args.repeat), "--scale", args.bulk_scale]
    if not args.no_bulk:
        bulk_lines, bulk_failures = runner.run_bulk_echo(args.bulk_echo, args.bulk_server, bulk_options,
                                                         args.timeout)
        bench_lines += bulk_lines
        failures += bulk_failures
    frame_lines = []
    if not args.no_game_loop:
        if not args.game_loop:
            raise runner.RunError("--game-loop is needed to run the game loop (or give --no-game-loop)")
        frame_lines = runner.run_game_loop(args.game_loop, args.frames, args.timeout)
    facts["load_average_end"] = machine.load_average()
    facts["build"] = "optimised (NDEBUG)" if optimised else (
        "NOT optimised (built without NDEBUG: these figures measure debug checks; use --config=opt)")
    facts["bench_options"] = "bench " + " ".join(passthrough)
    facts["bulk_options"] = "not run" if args.no_bulk else "bulk_echo " + " ".join(bulk_options)
    facts["game_loop_frames"] = args.frames if frame_lines else "not run"
    if args.note:
        facts["note"] = args.note
    return runner.capture_lines(facts, bench_lines, failures, frame_lines), 1 if failures else 0


def write_report(capture, out_dir, note):
    import charts  # matplotlib takes a while to load: only when there is something to draw

    os.makedirs(out_dir, exist_ok=True)
    written = ["report.md"]
    charts.ratios_chart(capture, os.path.join(out_dir, "ratios.svg"))
    written.append("ratios.svg")
    if any(records.message_bytes(w) is not None for w in capture.workloads()):
        charts.echo_chart(capture, os.path.join(out_dir, "w11_echo.svg"))
        written.append("w11_echo.svg")
    if bulk.workloads(capture):
        charts.bulk_chart(capture, os.path.join(out_dir, "w11_bulk.svg"))
        written.append("w11_bulk.svg")
    if capture.frames:
        charts.frames_chart(capture, os.path.join(out_dir, "frame_times.svg"))
        written.append("frame_times.svg")
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(markdown.render(capture, note))
    return written


def main(argv):
    args = parse_args(argv)
    out_dir = user_path(args.out)
    status = 0
    try:
        if args.source:
            source = user_path(args.source)
            with open(source) as f:
                capture = records.read_capture(f, source)
        else:
            lines, status = run_capture(args)
            capture = records.read_capture(lines, "the run")
            os.makedirs(out_dir, exist_ok=True)
            with open(os.path.join(out_dir, "capture.jsonl"), "w") as f:
                f.write("\n".join(lines) + "\n")
        if not capture.samples:
            raise records.CaptureError("the capture has no benchmark results")
        written = write_report(capture, out_dir, args.note)
    except (OSError, records.CaptureError, runner.RunError, ValueError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    print(f"report: wrote {', '.join(written)} in {out_dir}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
