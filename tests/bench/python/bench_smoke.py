"""Smoke test of the Python benchmark (bench.py): every workload at 1/1000 of
its N, twice, on every loop. Fails if a workload fails its own check (bench.py
exits 1), if a line is not a JSON object with positive timings, if a (loop,
workload) has not two result lines and a median line, or if a ratio to uvloop
is missing. It checks the output, never the speed. Main thread; owns the
bench.py process it starts.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = [sys.executable, os.path.join(HERE, "bench.py")]
REQUIRED = {"W1_callbacks_chain", "W2_callbacks_burst", "W3_timers_churn", "W4_timers_fire",
            "W5_futures", "W6_tasks", "W7_tasks_memory", "W9_offload",
            "W10_threadsafe_pingpong", "W11_tcp_echo", "W11_tcp_echo_streams",
            "W11_tcp_echo_weft_streams", "W11_tcp_echo_1conn", "W11_tcp_echo_16k",
            "W11_tcp_echo_16k_streams",
            "W11_tcp_echo_16k_weft_streams", "W11_tcp_receive_bulk",
            "W11_tcp_receive_bulk_buffered", "W11_tcp_receive_bulk_after_echo",
            "W11_tls_receive_bulk"}
IMPLS = ("weft", "asyncio", "uvloop")


def main():
    listed = subprocess.run(BENCH + ["--list", "--scale", "0.001"], check=True,
                            stdout=subprocess.PIPE, text=True).stdout.split("\n")
    registered = {}
    for line in filter(None, listed):
        impl, name, n = line.split()
        registered[(impl, name)] = int(n)
    missing = {(i, w) for i in IMPLS for w in REQUIRED} - set(registered)
    if missing:
        sys.exit("not registered: %s" % sorted(missing))

    done = subprocess.run(BENCH + ["--scale", "0.001", "--repeat", "2"],
                          stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit("bench.py exited with %d (a workload failed its check; see above)"
                 % done.returncode)
    runs, medians = {}, {}
    for number, text in enumerate(done.stdout.splitlines(), 1):
        try:
            obj = json.loads(text)
        except ValueError as e:
            sys.exit("line %d is not JSON (%s): %r" % (number, e, text))
        if not isinstance(obj, dict):
            sys.exit("line %d is not a JSON object: %r" % (number, text))
        key = (obj.get("impl"), obj.get("workload"))
        if registered.get(key) != obj.get("n"):
            sys.exit("line %d: unknown workload or size %r" % (number, text))
        if "repeats" in obj:
            if obj["repeats"] != 2 or not obj.get("median_ns_per_op", 0) > 0:
                sys.exit("line %d: bad median line %r" % (number, text))
            if key[0] != "uvloop" and not obj.get("uvloop_ratio", 0) > 0:
                sys.exit("line %d: no ratio to uvloop %r" % (number, text))
            medians[key] = obj
            continue
        for field in ("seconds", "ns_per_op", "ops_per_s"):
            value = obj.get(field)
            if not isinstance(value, (int, float)) or value <= 0:
                sys.exit("line %d: bad %s: %r" % (number, field, text))
        if key[1] == "W7_tasks_memory" and "bytes_per_task" not in obj:
            sys.exit("line %d: W7 without bytes_per_task: %r" % (number, text))
        runs[key] = runs.get(key, 0) + 1
    for key in sorted(registered):
        if runs.get(key) != 2:
            sys.exit("%s: %d result lines, expected 2" % (key, runs.get(key, 0)))
        if key not in medians:
            sys.exit("%s: no median line" % (key,))
    print("python bench smoke: %d (loop, workload) pairs, all lines well-formed" % len(registered))


if __name__ == "__main__":
    main()
