#!/usr/bin/env bash
# Runs epoll_hello_server_test.py (Debian's /usr/bin/python3, standard
# library only): PATH_TO_TEST_PY PATH_TO_FLOOR_SERVER PATH_TO_WEFT_SERVER.
set -euo pipefail
exec timeout 30 /usr/bin/python3 "$@"
