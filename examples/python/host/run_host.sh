#!/usr/bin/env bash
# Runs the host-driven example (host_driven.c) from its runfiles tree with
# ticker.py and the package weft importable (see with_weft.sh).
set -euo pipefail
export PYTHONPATH="$PWD/examples/python/host${PYTHONPATH:+:$PYTHONPATH}"
exec bindings/python/with_weft.sh examples/python/host_driven "$@"
