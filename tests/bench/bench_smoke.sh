#!/bin/bash
# Smoke test of the benchmark program: every workload at 1/1000 of its N, two
# repeats. Fails if the program fails (a workload's self-check), if a line is
# not a JSON object with the expected fields, or if a workload is missing.
set -euo pipefail

bench="$1"
out="${TEST_TMPDIR:-/tmp}/bench_smoke.out"
list="${TEST_TMPDIR:-/tmp}/bench_smoke.list"

"$bench" --list --scale 0.001 > "$list"
"$bench" --scale 0.001 --repeat 2 > "$out"

/usr/bin/python3 - "$out" "$list" <<'PY'
import json, sys

out_path, list_path = sys.argv[1], sys.argv[2]
registered = set()
with open(list_path) as f:
    for line in f:
        impl, name, n = line.split()
        registered.add((impl, name, int(n)))

# Workloads that must always be there.
required = {("weft", w) for w in ("W1_callbacks_chain", "W2_callbacks_burst", "W3_timers_churn",
                                  "W4_timers_fire", "W5_futures", "W6_tasks", "W7_tasks_memory",
                                  "W8_pool_submit", "W9_offload", "W13_blocking_offload",
                                  "W10_threadsafe_pingpong", "W11_tcp_echo", "W11_tcp_echo_16k")}
required |= {("libuv", w) for w in ("W1_callbacks_chain", "W2_callbacks_burst", "W3_timers_churn",
                                   "W4_timers_fire", "W10_threadsafe_pingpong", "W11_tcp_echo",
                                   "W11_tcp_echo_16k")}
required |= {("weft-c", w) for w in ("W1_callbacks_chain", "W5_futures", "W11_tcp_echo", "W11_tcp_echo_16k")}
required |= {("floor", "W5_futures")}
required |= {("weft-spin-off", w) for w in ("W8_pool_submit", "W9_offload", "W10_threadsafe_pingpong")}
missing = required - {(impl, name) for impl, name, _ in registered}
if missing:
    sys.exit(f"not registered: {sorted(missing)}")

runs, medians = {}, {}
with open(out_path) as f:
    for number, text in enumerate(f, 1):
        try:
            obj = json.loads(text)
        except ValueError as e:
            sys.exit(f"line {number} is not JSON ({e}): {text!r}")
        if not isinstance(obj, dict):
            sys.exit(f"line {number} is not a JSON object: {text!r}")
        key = (obj.get("impl"), obj.get("workload"), obj.get("n"))
        if key not in registered:
            sys.exit(f"line {number}: unknown workload {key}")
        if "median_ns_per_op" in obj:
            if obj.get("repeats") != 2:
                sys.exit(f"line {number}: expected repeats 2: {text!r}")
            medians[key] = obj
            continue
        for field in ("seconds", "ns_per_op", "ops_per_s"):
            value = obj.get(field)
            if not isinstance(value, (int, float)) or value <= 0:
                sys.exit(f"line {number}: bad {field}: {text!r}")
        # The cross-thread workloads give their price in CPU beside wall time.
        if key[1].split("_")[0] in ("W8", "W9", "W10"):
            for field in ("cpu_ns_per_op", "cpu_per_wall"):
                value = obj.get(field)
                if not isinstance(value, (int, float)) or value < 0:
                    sys.exit(f"line {number}: bad or missing {field}: {text!r}")
        runs[key] = runs.get(key, 0) + 1

for key in sorted(registered):
    if runs.get(key) != 2:
        sys.exit(f"{key}: {runs.get(key, 0)} result lines, expected 2")
    if key not in medians:
        sys.exit(f"{key}: no median line")
print(f"bench smoke: {len(registered)} workloads, all lines well-formed")
PY
