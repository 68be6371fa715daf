#!/usr/bin/env bash
# Writes the crawler's 50 test files, serves them with an nginx that
# real_servers.py starts on a free port of 127.0.0.1 (and over TLS on a
# second one, with a certificate for 127.0.0.1 made here by openssl), runs
# the crawler's tests, then the crawler program over every file plus a
# missing one (which must be reported as that URL's failure, with exit
# status 1), then over https:// trusting that certificate, and without
# trusting it (every URL must fail verification).
#   with_nginx_test.sh REAL_SERVERS_PY MAKE_DOCROOT_PY TEST_BINARY CRAWLER_BINARY
set -euo pipefail
real_servers="$1" make_docroot="$2" tests="$3" crawler="$4"
work="${TEST_TMPDIR:-$(mktemp -d)}"
docroot="$work/docroot"
/usr/bin/python3 "$make_docroot" "$docroot" 50
export WEFT_TEST_DOCROOT="$docroot"
certdir="$work/tls"
mkdir -p "$certdir"
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$certdir/key.pem" -out "$certdir/cert.pem" 2> "$certdir/openssl.log"; then
  cat "$certdir/openssl.log" >&2
  exit 1
fi
exec timeout 240 /usr/bin/python3 "$real_servers" --nginx "$docroot" \
    --nginx-tls "$certdir/cert.pem" "$certdir/key.pem" -- bash -c '
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

  secure=()
  for f in "$docroot"/*.bin; do secure+=("https://127.0.0.1:$WEFT_TEST_NGINX_TLS_PORT/$(basename "$f")"); done
  "$crawler" --max-in-flight 10 --timeout-ms 20000 --ca-file "$5" "${secure[@]}" > "$out"
  [ "$(grep -c "^\[.*\] done " "$out")" -eq 50 ] || { cat "$out"; echo "not 50 pages over https"; exit 1; }
  grep -q "^50 URLs in .* at most 10 in flight, .* 0 failed$" "$out" || { cat "$out"; echo "no https summary"; exit 1; }
  for f in "$docroot"/*.bin; do
    grep -q "done   https://127.0.0.1:$WEFT_TEST_NGINX_TLS_PORT/$(basename "$f"): 200, $(stat -c %s "$f") bytes" "$out" \
      || { echo "wrong size over https for $f"; exit 1; }
  done
  echo "crawler over https: ok"

  status=0
  "$crawler" --max-in-flight 10 --timeout-ms 20000 "${secure[@]:0:3}" > "$out" || status=$?
  [ "$status" -eq 1 ] || { cat "$out"; echo "untrusted certificate accepted (status $status)"; exit 1; }
  [ "$(grep -c "FAILED https://.*certificate" "$out")" -eq 3 ] || { cat "$out"; echo "no certificate failure"; exit 1; }
  echo "crawler refusing an untrusted certificate: ok"
' with_nginx "$tests" "$crawler" "$docroot" "$work" "$certdir/cert.pem"
