#!/bin/bash
# Smoke test of W11's bulk variants (bulk_echo): every server, every message
# size, a few round trips per connection, two repeats. Fails if a run fails
# (wrong bytes, a server that does not start or stop cleanly), or if the
# output lacks a line per run or a median line per (impl, size).
set -euo pipefail

program="$1"
shift
out="${TEST_TMPDIR:-/tmp}/bulk_echo_smoke.out"
# --scale 0.002 leaves 400 round trips at 64 B, 100 at 16 KiB, 64 (one per
# connection) at 64 KiB and 1 MiB.
"$program" "$@" --scale 0.002 --repeat 2 --sizes 64,16k,64k,1m > "$out"

/usr/bin/python3 - "$out" <<'PY'
import json, sys

impls = {"weft", "weft-c", "libuv", "epoll"}
sizes = {"W11_tcp_echo_ext_64": 64, "W11_tcp_echo_ext_16k": 16384,
         "W11_tcp_echo_ext_64k": 65536, "W11_tcp_echo_ext_1m": 1048576}
runs, medians = {}, {}
with open(sys.argv[1]) as f:
    for text in f:
        line = json.loads(text)
        key = (line["impl"], line["workload"])
        if "repeat" in line:
            for field in ("n", "seconds", "mb_per_s", "p50_us", "p99_us", "server_cpu_us_per_rt"):
                if not isinstance(line[field], (int, float)) or line[field] < 0:
                    sys.exit(f"bad {field} in {text}")
            if line["message_bytes"] != sizes[line["workload"]]:
                sys.exit(f"wrong message_bytes in {text}")
            if line["n"] <= 0 or line["mb_per_s"] <= 0:
                sys.exit(f"nothing measured in {text}")
            runs[key] = runs.get(key, 0) + 1
        else:
            medians[key] = line
want = {(i, w) for i in impls for w in sizes}
if set(runs) != want or any(count != 2 for count in runs.values()):
    sys.exit(f"runs: {sorted(runs.items())}")
if set(medians) != want:
    sys.exit(f"medians: {sorted(medians)}")
for (impl, w), line in medians.items():
    if line["repeats"] != 2:
        sys.exit(f"repeats in {line}")
    if impl != "libuv" and not line["mb_per_s_vs_libuv"] > 0:
        sys.exit(f"no ratio to libuv in {line}")
print(f"ok: {len(runs)} (impl, size) pairs, two runs each")
PY
