#!/usr/bin/env bash
# Runs c_task_floor_w6.lua with N = 1000 and checks its JSON line:
# c_task_floor_smoke.sh RUN_LUA lua54 C_TASK_FLOOR_SO C_TASK_FLOOR_W6_LUA.
set -euo pipefail
out=$("$@" 1000)
echo "$out"
grep -q '"impl":"c_task_floor".*"n":1000,"ns_per_op":[0-9.]*,"cpu_ns_per_op":[0-9.]*}' <<<"$out" ||
  { echo "no result line"; exit 1; }
echo "1 passed, 0 failed"
