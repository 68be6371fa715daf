#!/usr/bin/env bash
# Runs 120 frames (2 s) and checks what the frame loop must have done, and
# that --frame-times writes one well-formed JSON line per frame (and refuses
# a path it cannot write, before starting anything).
set -euo pipefail
frame_times="${TEST_TMPDIR:-/tmp}/game_loop_frames.jsonl"
output=$("$1" --frames 120 --frame-times "$frame_times")
printf '%s\n' "$output"
grep -q 'overshoot past the 2 ms budget, all frames (120 frames): mean' <<<"$output"
# 60 unpaused frames of game time = 1 s: 4 spawns at 250 ms; 2 levels of 3 assets.
grep -qE 'game: 4 enemies spawned \(game time: 60 frames paused\), 6 assets loaded, 2 levels streamed' <<<"$output"

/usr/bin/python3 - "$frame_times" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
if len(lines) != 120:
    sys.exit(f"expected 120 frame lines, got {len(lines)}")
paused = 0
for i, text in enumerate(lines):
    frame = json.loads(text)
    if frame["frame"] != i or frame["budget_ns"] != 2000000 or frame["frame_ns"] != 16666667:
        sys.exit(f"line {i}: {text}")
    if not isinstance(frame["run_for_ns"], int) or frame["run_for_ns"] <= 0:
        sys.exit(f"line {i}: bad run_for_ns: {text}")
    if frame["overshoot_ns"] != max(0, frame["run_for_ns"] - frame["budget_ns"]):
        sys.exit(f"line {i}: overshoot does not match run_for: {text}")
    for flag in ("preempted", "blocked", "paused"):
        if not isinstance(frame[flag], bool):
            sys.exit(f"line {i}: {flag} is not a boolean: {text}")
    paused += frame["paused"]
if paused != 60:
    sys.exit(f"expected 60 paused frames, got {paused}")
print("frame times: 120 well-formed lines")
PY

# A path that cannot be written: a clear error, exit 2, no frames run.
if "$1" --frames 10 --frame-times /nonexistent-dir/frames.jsonl >/dev/null 2>"${TEST_TMPDIR:-/tmp}/err"; then
  echo "expected failure for an unwritable --frame-times path" >&2
  exit 1
else
  status=$?
  [[ $status -eq 2 ]] || { echo "expected exit 2, got $status" >&2; exit 1; }
fi
grep -q 'cannot write --frame-times /nonexistent-dir/frames.jsonl' "${TEST_TMPDIR:-/tmp}/err"
