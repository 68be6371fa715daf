#!/usr/bin/env bash
# Runs one pytest file of bindings/python/tests against the built package
# (bindings/python/weft) with Debian's python3, which has pytest.
# Under --config=asan/tsan the extension links a sanitizer runtime that must
# come first in the process: preload it (LeakSanitizer off: the interpreter's
# own allocations at exit are not ours). libstdc++ is preloaded after it:
# Python does not link it, and ASan can only intercept C++ throws (weft's C
# layer throws internally) if libstdc++ is there at start-up.
set -euo pipefail
cd "$(dirname "$0")"
san=$(ldd ./weft/_capi.so | awk '/libasan|libtsan/ {print $3}' | head -n 1)
if [ -n "$san" ]; then
  cxx=$(ldd ./weft/_capi.so | awk '/libstdc\+\+/ {print $3}' | head -n 1)
  export LD_PRELOAD="$san${cxx:+ $cxx}"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$1"
