#!/usr/bin/env bash
# Runs the Redis client's tests and its demo against a redis-server that
# real_servers.py starts on a free port of 127.0.0.1 and stops afterwards.
#   with_redis_test.sh REAL_SERVERS_PY TEST_BINARY DEMO_BINARY
set -euo pipefail
real_servers="$1" tests="$2" demo="$3"
exec timeout 240 /usr/bin/python3 "$real_servers" --redis -- bash -c '
  set -euo pipefail
  "$1"
  "$2" --port "$WEFT_TEST_REDIS_PORT" | tee "${TEST_TMPDIR:-/tmp}/redis_demo.out"
  grep -q "^redis demo done$" "${TEST_TMPDIR:-/tmp}/redis_demo.out"
' with_redis "$tests" "$demo"
