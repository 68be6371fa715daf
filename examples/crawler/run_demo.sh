#!/usr/bin/env bash
# Builds the crawler, writes 50 files of different sizes to a temporary
# directory, serves them with a throwaway nginx on a free port of 127.0.0.1
# (tests/servers/real_servers.py) and crawls them, at most K at a time.
#   examples/crawler/run_demo.sh [K=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
k="${1:-10}"
bazel build //examples/crawler:crawler
docroot="$(mktemp -d)"
trap 'rm -rf "$docroot"' EXIT
/usr/bin/python3 examples/crawler/make_docroot.py "$docroot" 50
/usr/bin/python3 tests/servers/real_servers.py --nginx "$docroot" -- bash -c '
  urls=()
  for f in "$1"/*.bin; do urls+=("http://127.0.0.1:$WEFT_TEST_NGINX_PORT/$(basename "$f")"); done
  exec bazel-bin/examples/crawler/crawler --max-in-flight "$2" --timeout-ms 10000 "${urls[@]}"
' demo "$docroot" "$k"
