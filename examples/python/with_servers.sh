#!/usr/bin/env bash
# with_servers.sh [--redis] [--nginx] [--mariadb] -- PROGRAM.py [ARGS...]
#
# Runs a Python example on weft's loop with the real servers it talks to:
# starts them on 127.0.0.1 (tests/servers/real_servers.py: free ports,
# temporary directories, Debian's redis-server, nginx and MariaDB), exports
# where they are (WEFT_TEST_REDIS_PORT, WEFT_TEST_NGINX_PORT, ...; with
# --nginx also WEFT_TEST_NGINX_DOCROOT, an empty temporary directory the
# program fills), runs PROGRAM.py with Debian's python3 and the package weft
# importable (bindings/python/with_weft.sh), stops the servers and exits with
# the program's status. Used by `bazel run //examples/python:seed_*` and by
# seeds_test.py; the working directory is the runfiles tree.
set -euo pipefail
servers=()
docroot=""
cleanup() { if [ -n "$docroot" ]; then rm -rf "$docroot"; fi; }
trap cleanup EXIT
while [ $# -gt 0 ]; do
  case "$1" in
    --redis | --mariadb) servers+=("$1"); shift ;;
    --nginx)
      docroot="$(mktemp -d "${TMPDIR:-/tmp}/weft-docroot-XXXXXX")"
      export WEFT_TEST_NGINX_DOCROOT="$docroot"
      servers+=(--nginx "$docroot"); shift ;;
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
