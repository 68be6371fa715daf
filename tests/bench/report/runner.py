"""Runs the benchmark program, the bulk echo (tests/bench/bulk) and the game
loop (one after the other, never at once, so none disturbs another) and turns
what they print into capture lines (see records.py). The child processes are
waited for with a time limit; on the main thread. The caller owns the returned
lines.
"""

import json
import os
import subprocess
import sys
import tempfile


class RunError(Exception):
    """A program the report runs could not be run or gave unusable output."""


NDEBUG_NOTE = "built without NDEBUG"


def run_program(what, command, timeout_s, shorter):
    """Runs `command` (the `what`: "benchmark", "bulk echo") to its end;
    returns the finished process. Its stderr is echoed. `shorter` says how to
    make a run that timed out shorter."""
    print("report: running " + " ".join(command), file=sys.stderr, flush=True)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except FileNotFoundError:
        raise RunError(f"no {what} program at {command[0]}") from None
    except subprocess.TimeoutExpired:
        raise RunError(f"the {what} ran past {timeout_s} s ({shorter})") from None
    sys.stderr.write(done.stderr)
    if done.returncode == 2:
        raise RunError(f"the {what} refused its options: " + done.stderr.strip())
    return done


def result_lines(what, done, failures):
    """The JSON lines a finished program printed; exit status 1 must come with
    the failures it reported on stderr."""
    if done.returncode not in (0, 1) or (done.returncode == 1 and not failures):
        raise RunError(f"the {what} exited with status {done.returncode}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise RunError(f"the {what} printed no results")
    return lines


def run_bench(bench, passthrough, timeout_s):
    """Runs `bench` with `passthrough` options; returns (JSON lines, failure
    messages, whether it was an optimised build)."""
    done = run_program("benchmark", [bench] + passthrough, timeout_s, "use --scale or --only for a shorter run")
    failures = [line.strip() for line in done.stderr.splitlines()
                if " failed: " in line and line.startswith("bench: ")]
    return result_lines("benchmark", done, failures), failures, NDEBUG_NOTE not in done.stderr


def run_bulk_echo(bulk_echo, servers, passthrough, timeout_s):
    """Runs the bulk echo's load generator against `servers` (IMPL=PATH each)
    with `passthrough` options; returns (JSON lines, failure messages)."""
    command = [bulk_echo] + [arg for server in servers for arg in ("--server", server)] + passthrough
    done = run_program("bulk echo", command, timeout_s, "use --bulk-scale for a shorter run")
    # A server that did not start ("bulk_echo: IMPL WORKLOAD: why") or a run
    # that failed ("... (n=N) failed: why"); not the closing count.
    failures = [line.strip() for line in done.stderr.splitlines()
                if line.startswith("bulk_echo: ") and not line.endswith("run(s) failed")]
    return result_lines("bulk echo", done, failures), failures


def run_game_loop(game_loop, frames, timeout_s):
    """Runs the game loop for `frames` frames; returns its frame lines."""
    with tempfile.TemporaryDirectory(prefix="weft-report-") as tmp:
        path = os.path.join(tmp, "frames.jsonl")
        command = [game_loop, "--frames", str(frames), "--frame-times", path]
        print("report: running " + " ".join(command), file=sys.stderr, flush=True)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        except FileNotFoundError:
            raise RunError(f"no game loop program at {game_loop}") from None
        except subprocess.TimeoutExpired:
            raise RunError(f"the game loop ran past {timeout_s} s") from None
        if done.returncode != 0:
            raise RunError(f"the game loop exited with status {done.returncode}: {done.stderr.strip()}")
        with open(path) as f:
            return [line for line in f.read().splitlines() if line.strip()]


def capture_lines(machine, bench_lines, failures, frame_lines):
    """All of one run as capture lines, the machine line first."""
    out = [json.dumps({"machine": machine}, sort_keys=True)]
    out += bench_lines
    out += [json.dumps({"bench_failure": message}) for message in failures]
    out += frame_lines
    return out
