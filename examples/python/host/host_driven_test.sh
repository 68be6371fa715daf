#!/usr/bin/env bash
# Runs the host-driven example for 120 frames (2 s) and checks that the
# asyncio task ticked inside the host's steps, on the running loop, and
# stopped when cancelled; and, loosely (this machine is shared), that the
# median frame stayed within its budget. The p99 overshoot is printed, not
# asserted.
set -euo pipefail
output=$(examples/python/host/run_host.sh --frames 120)
printf '%s\n' "$output"
line=$(grep '^python: ' <<<"$output")
read -r ticks on_loop children cancelled < <(sed -E \
  's/^python: ticks ([0-9]+), on the running loop ([0-9]+), child tasks ([0-9]+), cancelled (True|False)$/\1 \2 \3 \4/' <<<"$line")
[ "$cancelled" = True ] || { echo "the task did not end cancelled: $line"; exit 1; }
# A 5 ms sleep each tick: about one tick per 16.7 ms frame; a quarter is plenty.
[ "$ticks" -ge 30 ] || { echo "only $ticks ticks in 120 frames"; exit 1; }
[ "$on_loop" -eq "$ticks" ] || { echo "asyncio's running loop was not the attached loop: $line"; exit 1; }
[ "$children" -eq "$ticks" ] || { echo "child tasks did not all finish: $line"; exit 1; }
p50=$(sed -nE 's/^overshoot past the 2 ms budget, all frames \(120 frames\): mean [0-9.]+ us, p50 ([0-9]+)\.[0-9] us.*/\1/p' <<<"$output")
[ -n "$p50" ] || { echo "no overshoot statistics"; exit 1; }
[ "$p50" -lt 1000 ] || { echo "median overshoot ${p50} us: the budget did not hold"; exit 1; }
