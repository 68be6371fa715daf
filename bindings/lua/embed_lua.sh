#!/usr/bin/env bash
# Turns a Lua source file into a C header holding its bytes, so that the
# module carries its Lua parts inside the .so: embed_lua.sh IN.lua OUT.h NAME
# (the header defines NAME[] and NAME_size; include it after lua.h).
#
# The Lua parts are written in Lua 5.4 and may declare compile-time
# constants (`local SLOT <const> = 1`: Lua 5.4 folds them into the
# instructions, where a plain local would be an upvalue read each time).
# LuaJIT reads Lua 5.1 syntax, so for it (LUA_VERSION_NUM below 504) the
# header holds the same source with every " <const>" taken out: the same
# program, with those constants as plain locals.
set -euo pipefail
in=$1 out=$2 name=$3

bytes() {
  od -An -v -tx1 | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
}

{
  echo "/* Generated from $(basename "$in") by embed_lua.sh: the Lua part of the weft module. */"
  echo "#if LUA_VERSION_NUM >= 504"
  echo "static const unsigned char $name[] = {"
  bytes <"$in"
  echo "};"
  echo "#else /* LuaJIT: Lua 5.1 syntax, without the <const> attributes */"
  echo "static const unsigned char $name[] = {"
  sed -e 's/[[:space:]]*<const>//g' "$in" | bytes
  echo "};"
  echo "#endif"
  echo "static const size_t ${name}_size = sizeof $name;"
} >"$out"
