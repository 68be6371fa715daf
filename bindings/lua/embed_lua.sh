#!/usr/bin/env bash
# Turns a Lua source file into a C header holding its bytes, so that the
# module carries its Lua parts inside the .so: embed_lua.sh IN.lua OUT.h NAME
# (the header defines NAME[] and NAME_size).
set -euo pipefail
{
  echo "/* Generated from $(basename "$1") by embed_lua.sh: the Lua part of the weft module. */"
  echo "static const unsigned char $3[] = {"
  od -An -v -tx1 "$1" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
  echo "};"
  echo "static const size_t $3_size = sizeof $3;"
} > "$2"
