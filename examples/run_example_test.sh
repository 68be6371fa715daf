#!/usr/bin/env bash
# Runs an example program and checks that it exits 0 and prints an expected line.
# Usage: run_example_test.sh PROGRAM EXPECTED_TEXT [ARGS...]
set -euo pipefail
program="$1"
expected="$2"
shift 2
output=$("$program" "$@")
printf '%s\n' "$output"
if ! grep -qF -- "$expected" <<<"$output"; then
  echo "expected output to contain: $expected" >&2
  exit 1
fi
