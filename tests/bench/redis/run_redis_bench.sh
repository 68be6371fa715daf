#!/usr/bin/env bash
# SET/GET with 64 connections and pipelines of 16 against one redis-server:
# redis-benchmark (-P 16 -c 64 -t set,get -n N) and weft's Redis client
# (redis_bench) take turns on the same server, ROUNDS times; one JSON line
# per test and round (tests/bench/README.md's format), then the medians and
# weft's ratio to redis-benchmark.
#
#   tests/bench/redis/run_redis_bench.sh [N=1000000] [ROUNDS=3]
#
# Builds redis_bench optimised (--config=opt); the server comes from
# tests/servers/real_servers.py (a free port of 127.0.0.1, no persistence).
set -euo pipefail
cd "$(dirname "$0")/../../.."
n="${1:-1000000}"
rounds="${2:-3}"
bazel build --config=opt //tests/bench/redis:redis_bench >&2
bench="$(bazel info --config=opt bazel-bin 2>/dev/null)/tests/bench/redis/redis_bench"
exec /usr/bin/python3 tests/servers/real_servers.py --redis -- /usr/bin/python3 - "$bench" "$n" "$rounds" <<'PY'
import json, os, statistics, subprocess, sys

bench, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
port = os.environ["WEFT_TEST_REDIS_PORT"]
lines = {}

def emit(record):
    print(json.dumps(record), flush=True)
    lines.setdefault((record["impl"], record["workload"]), []).append(record)

for round_ in range(rounds):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", port, "-P", "16", "-c", "64",
                          "-t", "set,get", "-n", str(n), "--csv"],
                         check=True, capture_output=True, text=True, timeout=600).stdout
    for row in out.splitlines():
        cells = [c.strip('"') for c in row.split(",")]
        if cells[0] in ("SET", "GET"):
            ops = float(cells[1])
            emit({"impl": "redis-benchmark", "workload": f"redis_{cells[0].lower()}_c64_p16", "n": n,
                  "seconds": n / ops, "ns_per_op": 1e9 / ops, "ops_per_s": round(ops),
                  "load_avg_1m": round(os.getloadavg()[0], 2), "repeat": round_})
    out = subprocess.run([bench, "--port", port, "--n", str(n), "--connections", "64", "--pipeline", "16"],
                         check=True, capture_output=True, text=True, timeout=600).stdout
    for row in out.splitlines():
        record = json.loads(row)
        record["repeat"] = round_
        emit(record)

for test in ("set", "get"):
    workload = f"redis_{test}_c64_p16"
    medians = {}
    for impl in ("redis-benchmark", "weft"):
        records = lines.get((impl, workload), [])
        medians[impl] = statistics.median(r["ops_per_s"] for r in records)
        summary = {"impl": impl, "workload": workload, "n": n, "median_ops_per_s": round(medians[impl]),
                   "repeats": len(records)}
        if impl == "weft":
            summary["median_cpu_ns_per_op"] = round(statistics.median(r["cpu_ns_per_op"] for r in records), 1)
        print(json.dumps(summary), flush=True)
    print(json.dumps({"workload": workload, "weft_over_redis_benchmark":
                      round(medians["weft"] / medians["redis-benchmark"], 3)}), flush=True)
PY
