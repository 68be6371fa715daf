#!/usr/bin/env bash
# Runs sleep_wait.lua with N = 200 and checks that every round ran:
# sleep_wait_smoke.sh RUN_LUA INTERP MODULE SLEEP_WAIT_LUA.
set -euo pipefail
out=$("$@" 200)
echo "$out"
[ "$out" = "200" ] || { echo "expected 200 rounds"; exit 1; }
echo "1 passed, 0 failed"
