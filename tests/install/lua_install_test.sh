#!/usr/bin/env bash
# The installed Lua modules, used as a Lua user outside Bazel uses them:
# install.sh installs into a temporary prefix, then lua5.4 and luajit load
# `weft` through LUA_CPATH pointing at PREFIX/lib/lua/5.4 and 5.1 (no
# LD_LIBRARY_PATH: the module's rpath finds PREFIX/lib/libweft.so.1) and run
# a task.
# Usage: lua_install_test.sh INSTALL_SH FILE... (install.sh's arguments before --)
set -euo pipefail
install_sh="$PWD/$1"
args=()
for a in "${@:2}"; do
  case "$a" in
    --lua-module=*:*) args+=("${a%%:*}:$PWD/${a#*:}") ;;
    *) args+=("$PWD/$a") ;;
  esac
done
prefix="$TEST_TMPDIR/prefix"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$install_sh" "${args[@]}" -- --prefix "$prefix"
for dir in 5.4 5.1; do
  [ -f "$prefix/lib/lua/$dir/weft.so" ] || fail "no $prefix/lib/lua/$dir/weft.so"
  deps="$(env -u LD_LIBRARY_PATH ldd "$prefix/lib/lua/$dir/weft.so")"
  found="$(awk '/libweft.so.1 =>/ {print $3}' <<<"$deps")"
  [ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$prefix/lib/libweft.so.1")" ] ||
    fail "lib/lua/$dir/weft.so does not find the installed libweft.so.1: $deps"
done

script='local weft = require "weft"
assert(weft.run(function() weft.sleep(0.001); return weft.spawn(function() return 42 end):await() end) == 42)
print("installed weft works")'
cd "$TEST_TMPDIR"
out54="$(env -u LD_LIBRARY_PATH LUA_CPATH="$prefix/lib/lua/5.4/?.so" lua5.4 -e "$script")"
outjit="$(env -u LD_LIBRARY_PATH LUA_CPATH="$prefix/lib/lua/5.1/?.so" luajit -e "$script")"
[ "$out54" = "installed weft works" ] || fail "lua5.4: $out54"
[ "$outjit" = "installed weft works" ] || fail "luajit: $outjit"
echo "1 passed, 0 failed"
