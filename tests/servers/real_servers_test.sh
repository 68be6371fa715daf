#!/usr/bin/env bash
# Runs real_servers_test.py with Debian's Python (the servers come from Debian's
# packages; bazel/setup.sh installs them).
set -euo pipefail
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/servers/real_servers_test.py
