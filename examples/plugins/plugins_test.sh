#!/usr/bin/env bash
# Runs the plugin host and checks the story: B got A's quick answers, B's
# wait on the slow one was cancelled at B's unload, the drain waited for B's
# pool work, and nothing of either plugin was left behind.
set -euo pipefail
output=$("$1" "$2" "$3")
printf '%s\n' "$output"
expect() {
  if ! grep -qF -- "$1" <<<"$output"; then
    echo "expected output to contain: $1" >&2
    exit 1
  fi
}
expect '[client] answer to "life": 42 (to "life")'
expect '[client] answer to "the universe": 42 (to "the universe")'
expect '[client] no answer to "everything, slowly": the scope the callback was registered through was cancelled (WEFT_ERR_CANCELLED)'
expect '[client] indexing: '
expect 'client unloaded: drained with 0 stragglers; nothing left behind'
expect 'oracle unloaded: drained with 0 stragglers; nothing left behind'
expect 'runtime: 1 scopes, 0 futures alive, 0 timers, 0 work pending'
