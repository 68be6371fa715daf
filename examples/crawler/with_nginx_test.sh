#!/usr/bin/env bash
# Writes the crawler's 50 test files, serves them with an nginx that
# real_servers.py starts on a free port of 127.0.0.1, runs the crawler's
# tests, then the crawler program over every file plus a missing one (which
# must be reported as that URL's failure, with exit status 1).
#   with_nginx_test.sh REAL_SERVERS_PY MAKE_DOCROOT_PY TEST_BINARY CRAWLER_BINARY
set -euo pipefail
real_servers="$1" make_docroot="$2" tests="$3" crawler="$4"
work="${TEST_TMPDIR:-$(mktemp -d)}"
docroot="$work/docroot"
/usr/bin/python3 "$make_docroot" "$docroot" 50
export WEFT_TEST_DOCROOT="$docroot"
exec timeout 240 /usr/bin/python3 "$real_servers" --nginx "$docroot" -- bash -c '
  set -euo pipefail
  tests="$1" crawler="$2" docroot="$3" out="$4/crawler.out"
  "$tests"
  urls=()
  for f in "$docroot"/*.bin; do urls+=("http://127.0.0.1:$WEFT_TEST_NGINX_PORT/$(basename "$f")"); done
  urls+=("http://127.0.0.1:$WEFT_TEST_NGINX_PORT/missing.bin")
  status=0
  "$crawler" --max-in-flight 10 --timeout-ms 20000 "${urls[@]}" > "$out" || status=$?
  cat "$out"
  [ "$status" -eq 1 ] || { echo "crawler exited with $status, expected 1 (one missing page)"; exit 1; }
  [ "$(grep -c "^\[.*\] done " "$out")" -eq 50 ] || { echo "not 50 pages fetched"; exit 1; }
  grep -q "FAILED http://127.0.0.1:$WEFT_TEST_NGINX_PORT/missing.bin: 404 Not Found" "$out" || { echo "no 404 reported"; exit 1; }
  grep -q "^51 URLs in .* at most 10 in flight, .* 1 failed$" "$out" || { echo "no summary line"; exit 1; }
  echo "crawler program: ok"
' with_nginx "$tests" "$crawler" "$docroot" "$work"
