#!/usr/bin/env bash
# Runs minimal_scheduler.lua with N = 1000 and checks its JSON line:
# minimal_scheduler_smoke.sh RUN_LUA INTERP MODULE MINIMAL_SCHEDULER_LUA.
set -euo pipefail
out=$("$@" 1000)
echo "$out"
grep -q '"impl":"minimal_scheduler".*"n":1000,"ns_per_op":[0-9.]*,"cpu_ns_per_op":[0-9.]*}' <<<"$out" ||
  { echo "no result line"; exit 1; }
echo "1 passed, 0 failed"
