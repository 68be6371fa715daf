#!/usr/bin/env bash
# with_weft.sh COMMAND [ARGS...]: runs COMMAND (Debian's /usr/bin/python3 and
# the programs it starts) with the package weft of this directory importable:
# PYTHONPATH gets this directory, and under --config=asan/tsan the sanitizer
# runtime the extension links is preloaded first, with libstdc++ after it, as
# run_pytest.sh explains (LeakSanitizer off: the interpreter's allocations at
# exit are not ours; TSan gets tsan_suppressions.txt when it is in the data).
# For tests outside bindings/python (conformance, benchmarks, examples); data
# dependencies: //bindings/python:package and :tsan_suppressions.
set -euo pipefail
# The package: next to this script, or (when a test or `bazel run` runs it
# under its own name) in the runfiles tree, the working directory.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -e "$here/weft/_capi.so" ]; then
  here="$PWD/bindings/python"
fi
if [ ! -e "$here/weft/_capi.so" ]; then
  echo "with_weft.sh: the package weft is not in $here (data: //bindings/python:package)" >&2
  exit 2
fi
san=$(ldd "$here/weft/_capi.so" | awk '/libasan|libtsan/ {print $3}' | head -n 1)
if [ -n "$san" ]; then
  cxx=$(ldd "$here/weft/_capi.so" | awk '/libstdc\+\+/ {print $3}' | head -n 1)
  export LD_PRELOAD="$san${cxx:+ $cxx}"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
  # glibc's dynamic-TLS teardown, invisible to TSan (see the file).
  if [ -e "$here/tsan_suppressions.txt" ]; then
    export TSAN_OPTIONS="${TSAN_OPTIONS:-}:suppressions=$here/tsan_suppressions.txt"
  fi
fi
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
exec "$@"
