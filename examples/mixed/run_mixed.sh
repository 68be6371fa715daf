#!/usr/bin/env bash
# Runs the mixed example (mixed_host.c) from its runfiles tree: the Lua
# script next to it, mixed_python.py and the package weft importable (see
# bindings/python/with_weft.sh, which also preloads the sanitizer runtime
# under --config=asan/tsan). Extra arguments go to mixed_host (--frames N).
set -euo pipefail
export PYTHONPATH="$PWD/examples/mixed${PYTHONPATH:+:$PYTHONPATH}"
exec bindings/python/with_weft.sh examples/mixed/mixed_host --lua examples/mixed/mixed_script.lua "$@"
