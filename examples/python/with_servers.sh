#!/usr/bin/env bash
# with_servers.sh [--redis] [--nginx] [--mariadb] -- PROGRAM.py [ARGS...]
#
# Runs a Python example on weft's loop with the real servers it talks to:
# starts them on 127.0.0.1 (tests/servers/real_servers.py: free ports,
# temporary directories, Debian's redis-server, nginx and MariaDB), exports
# where they are (WEFT_TEST_REDIS_PORT, WEFT_TEST_NGINX_PORT, ...). With
# --nginx, nginx serves an empty temporary directory the program fills
# (WEFT_TEST_NGINX_DOCROOT) over HTTP and over HTTPS
# (WEFT_TEST_NGINX_TLS_PORT) with a self-signed certificate for localhost and
# 127.0.0.1 made here by the openssl command (WEFT_TEST_NGINX_CA). It runs PROGRAM.py with Debian's python3 and the package weft
# importable (bindings/python/with_weft.sh), stops the servers and exits with
# the program's status. Used by `bazel run //examples/python:seed_*` and by
# seeds_test.py; the working directory is the runfiles tree.
set -euo pipefail
servers=()
docroot=""
certdir=""
cleanup() {
  if [ -n "$docroot" ]; then rm -rf "$docroot"; fi
  if [ -n "$certdir" ]; then rm -rf "$certdir"; fi
}
trap cleanup EXIT
while [ $# -gt 0 ]; do
  case "$1" in
    --redis | --mariadb) servers+=("$1"); shift ;;
    --nginx)
      docroot="$(mktemp -d "${TMPDIR:-/tmp}/weft-docroot-XXXXXX")"
      certdir="$(mktemp -d "${TMPDIR:-/tmp}/weft-cert-XXXXXX")"
      if ! openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
          -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
          -keyout "$certdir/key.pem" -out "$certdir/cert.pem" 2> "$certdir/openssl.log"; then
        cat "$certdir/openssl.log" >&2
        exit 2
      fi
      export WEFT_TEST_NGINX_DOCROOT="$docroot" WEFT_TEST_NGINX_CA="$certdir/cert.pem"
      servers+=(--nginx "$docroot" --nginx-tls "$certdir/cert.pem" "$certdir/key.pem")
      shift ;;
    --) shift; break ;;
    *) echo "with_servers.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: with_servers.sh [--redis] [--nginx] [--mariadb] -- PROGRAM.py [ARGS...]" >&2
  exit 2
fi
# Not exec: the trap removes the document root afterwards.
/usr/bin/python3 tests/servers/real_servers.py "${servers[@]}" -- \
  bindings/python/with_weft.sh /usr/bin/python3 "$@"
