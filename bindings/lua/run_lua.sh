#!/usr/bin/env bash
# Runs a Lua test script against a built weft module: run_lua.sh INTERP
# MODULE SCRIPT [ARGS...], INTERP being lua54 or luajit. Under --config=asan/tsan the
# module links a sanitizer runtime that must come first in the process, so
# it is preloaded (LeakSanitizer off: the interpreter's own allocations at
# exit are not ours), with libstdc++ after it (the interpreter does not link
# it, and ASan intercepts C++ throws only if it is there at start-up).
set -euo pipefail
interp=$1 module=$2 script=$3
shift 3
case "$interp" in
  lua54) bin=/usr/bin/lua5.4 ;;
  luajit) bin=/usr/bin/luajit ;;
  *) echo "run_lua.sh: unknown interpreter $interp" >&2; exit 2 ;;
esac
san=$(ldd "$module" | awk '/libasan|libtsan/ {print $3}' | head -n 1)
if [ -n "$san" ]; then
  cxx=$(ldd "$module" | awk '/libstdc\+\+/ {print $3}' | head -n 1)
  export LD_PRELOAD="$san${cxx:+ $cxx}"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
fi
export LUA_CPATH="$(dirname "$module")/?.so;;" # ;; keeps the default path (luv for the benchmark)
export LUA_PATH="$(dirname "$script")/?.lua"
exec "$bin" "$script" "$@"
