#!/usr/bin/env bash
# Builds the Redis demo, starts a throwaway redis-server on a free port of
# 127.0.0.1 (tests/servers/real_servers.py) and runs the demo against it.
#   examples/redis/run_demo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //examples/redis:redis_demo
exec /usr/bin/python3 tests/servers/real_servers.py --redis -- \
  bash -c 'exec bazel-bin/examples/redis/redis_demo --port "$WEFT_TEST_REDIS_PORT"'
