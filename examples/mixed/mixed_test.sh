#!/usr/bin/env bash
# Runs the mixed example for 300 frames (5 s) and checks its summary: every
# cross-language await completed (the program also exits 1 otherwise), the
# Lua unload was clean while the others went on, and the typical frame kept
# its budget: the median overshoot past run_for's 2 ms, in the loop thread's
# own time, is under 1 ms (a step that ignored its budget overshoots by the
# whole remaining work). p99 and max, own time and wall clock, are printed:
# they are measurements, not checked, because on a shared machine a single
# frame can lose milliseconds to the OS, the hypervisor or a full garbage
# collection, which no run_for can help.
set -euo pipefail
limit_us=1000
output=$(timeout 60 examples/mixed/run_mixed.sh --frames 300)
printf '%s\n' "$output"
grep -qF 'mixed: 4 of 4 cross-language awaits completed; Lua unload clean; the others went on; OK' <<<"$output" \
  || { echo "the summary does not say every await completed"; exit 1; }
[ "$(grep -c '^await .* completed (' <<<"$output")" -eq 4 ] || { echo "not 4 completed awaits"; exit 1; }
stats() {
  sed -nE "s/^frame budget overshoot, $1 \(300 frames, past 2000 us\): p50 ([0-9.]+) us, p99 ([0-9.]+) us, max ([0-9.]+) us$/\1 \2 \3/p" <<<"$output"
}
read -r wall_p50 wall_p99 wall_max < <(stats 'wall clock')
read -r own_p50 own_p99 own_max < <(stats "the loop thread's own time")
[ -n "${wall_p99:-}" ] && [ -n "${own_p99:-}" ] || { echo "no overshoot statistics"; exit 1; }
echo "measured overshoot past 2 ms: own time p50 ${own_p50} us, p99 ${own_p99} us, max ${own_max} us; wall clock p50 ${wall_p50} us, p99 ${wall_p99} us, max ${wall_max} us"

# The checks can fail: with "c.go" withheld the chain never completes, and
# the program must say so and exit 1.
set +e
withheld=$(timeout 60 examples/mixed/run_mixed.sh --frames 60 --withhold-go)
rc=$?
set -e
[ "$rc" -eq 1 ] || { printf '%s\n' "$withheld"; echo "with c.go withheld: exit $rc, not 1"; exit 1; }
grep -qF 'mixed: 1 of 4 cross-language awaits completed; Lua unload NOT clean; the others went on; FAILED' <<<"$withheld" \
  || { printf '%s\n' "$withheld"; echo "with c.go withheld the summary does not report the failed awaits"; exit 1; }
echo "with c.go withheld: exit 1, the failed awaits reported"

awk -v p="$own_p50" -v l="$limit_us" 'BEGIN { exit !(p < l) }' \
  || { echo "median own-time overshoot ${own_p50} us is not under ${limit_us} us"; exit 1; }
