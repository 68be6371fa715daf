#!/usr/bin/env bash
# lua54_symbols or luajit_symbols runs a script with its arguments, and
# fails on an error: lua_symbols_smoke.sh BINARY VERSION ("Lua 5.4" or
# "Lua 5.1", LuaJIT's _VERSION).
set -euo pipefail
bin=$1 version=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'local a, b = ...\nprint(_VERSION, arg[0] ~= nil, arg[1], a, b)\n' >"$work/ok.lua"
out=$("$bin" "$work/ok.lua" x y)
echo "$out"
[ "$out" = "$version	true	x	x	y" ] || { echo "unexpected output"; exit 1; }
printf 'error("boom")\n' >"$work/bad.lua"
if "$bin" "$work/bad.lua" 2>"$work/err"; then echo "a failing script exited 0"; exit 1; fi
grep -q boom "$work/err" || { echo "the error was not printed"; exit 1; }
if "$bin" 2>/dev/null; then echo "no script exited 0"; exit 1; fi
echo "1 passed, 0 failed"
