#!/usr/bin/env bash
# Machine instructions per operation of a Lua workload, counted by
# valgrind's callgrind (deterministic, unlike timings on a shared machine):
# the script runs at two sizes, N1 and N2, and the difference of the two
# totals divided by N2 - N1 is printed, so that the interpreter's start-up
# and the module's loading cancel out.
#
#   instructions.sh INTERP MODULE N1 N2 SCRIPT [ARGS...]
#
# INTERP is lua54 or luajit, MODULE a built weft.so (its directory goes on
# LUA_CPATH, as in run_lua.sh); every "@N@" in ARGS is replaced by the size.
# Examples, after `bazel build --config=opt //bindings/lua:lua54/weft.so`:
#
#   m=bazel-bin/bindings/lua/lua54/weft.so
#   tests/bench/lua/instructions.sh lua54 $m 10000 30000 tests/bench/lua/bench.lua --child weft W6 @N@ 0
#   tests/bench/lua/instructions.sh lua54 $m 10000 30000 tests/bench/lua/bench.lua --child luv W6 @N@ 0
#   tests/bench/lua/instructions.sh lua54 $m 10000 30000 tests/bench/lua/minimal_scheduler.lua @N@
#
# Needs valgrind (Debian's valgrind package); takes a minute or two per pair.
set -euo pipefail
[ $# -ge 5 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
interp=$1 module=$2 n1=$3 n2=$4 script=$5
shift 5
case "$interp" in
  lua54) bin=/usr/bin/lua5.4 ;;
  luajit) bin=/usr/bin/luajit ;;
  *) echo "instructions.sh: unknown interpreter $interp" >&2; exit 2 ;;
esac
[ "$n2" -gt "$n1" ] || { echo "instructions.sh: N2 must be larger than N1" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 2; }
export LUA_CPATH="$(dirname "$module")/?.so;;"
export LUA_PATH="$(dirname "$script")/?.lua"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Total instructions of one run at size $1.
count() {
  local args=() a
  for a in "${extra[@]}"; do args+=("${a//@N@/$1}"); done
  valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bin" "$script" "${args[@]}" \
    >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  awk '/^(summary|totals):/ { print $2; exit }' "$work/out"
}
extra=("$@")
i1=$(count "$n1")
i2=$(count "$n2")
awk -v i1="$i1" -v i2="$i2" -v n1="$n1" -v n2="$n2" -v interp="$interp" -v script="$(basename "$script")" \
  -v args="$*" 'BEGIN { printf "{\"interp\":\"%s\",\"script\":\"%s\",\"args\":\"%s\",\"n1\":%d,\"n2\":%d,\"instructions_per_op\":%.0f}\n",
  interp, script, args, n1, n2, (i2 - i1) / (n2 - n1) }'
