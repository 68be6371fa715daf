#!/usr/bin/env bash
# Runs http_server_test.py (Debian's /usr/bin/python3, standard library only)
# against the server binary given: the C++ one or the C one.
#   http_server_test.sh PATH_TO_TEST_PY PATH_TO_SERVER
set -euo pipefail
exec timeout 55 /usr/bin/python3 "$1" "$2"
