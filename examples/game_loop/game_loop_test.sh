#!/usr/bin/env bash
# Runs 120 frames (2 s) and checks what the frame loop must have done.
set -euo pipefail
output=$("$1" --frames 120)
printf '%s\n' "$output"
grep -q 'overshoot past the 2 ms budget, all frames (120 frames): mean' <<<"$output"
# 60 unpaused frames of game time = 1 s: 4 spawns at 250 ms; 2 levels of 3 assets.
grep -qE 'game: 4 enemies spawned \(game time: 60 frames paused\), 6 assets loaded, 2 levels streamed' <<<"$output"
