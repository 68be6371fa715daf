#!/usr/bin/env bash
# Runs timers_and_subprocess.lua and checks what it printed:
# timers_test.sh RUNNER INTERP MODULE SCRIPT.
set -euo pipefail
output=$("$@")
echo "$output"
grep -q "child says: step 3" <<<"$output"
grep -q "child exited with 5 after 3 lines" <<<"$output"
ticks=$(sed -n 's/.*ticked \([0-9]*\) times.*/\1/p' <<<"$output")
[ "$ticks" -ge 1 ] || { echo "the ticker never ticked while the child ran (90 ms)"; exit 1; }
grep -q "deadline: WEFT_ERR_TIMED_OUT" <<<"$output"
echo "1 passed, 0 failed"
