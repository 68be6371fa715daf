#!/usr/bin/env bash
# Runs bench.lua at 1/1000 of each N, twice, and checks that every
# (implementation, workload) printed its lines and medians:
# bench_smoke.sh RUN_LUA INTERP MODULE BENCH_LUA.
set -euo pipefail
out=$("$@" --scale 0.001 --repeat 2)
echo "$out"
for impl in weft luv; do
  for w in W1_callbacks_chain W3_timers_churn W6_tasks; do
    n=$(grep -c "\"impl\":\"$impl\".*\"workload\":\"$w\".*\"seconds\"" <<<"$out" || true)
    [ "$n" = 2 ] || { echo "$impl $w: $n lines, not 2"; exit 1; }
    grep -q "\"impl\":\"$impl\".*\"workload\":\"$w\".*\"median_seconds\"" <<<"$out" ||
      { echo "$impl $w: no median line"; exit 1; }
  done
done
echo "1 passed, 0 failed"
