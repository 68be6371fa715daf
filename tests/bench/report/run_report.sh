#!/usr/bin/env bash
# Starts tests/bench/report/report.py with Debian's Python (the one whose
# python3-matplotlib the report uses); the Bazel target passes the script and
# the programs it runs, the user's options follow.
set -euo pipefail
exec /usr/bin/python3 "$@"
