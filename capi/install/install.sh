#!/usr/bin/env bash
# Installs weft's C library for use outside Bazel:
#   PREFIX/lib/libweft.so.1.4.0        the optimised library (SONAME libweft.so.1)
#   PREFIX/lib/libweft.so.1            -> libweft.so.1.4.0 (the run-time link)
#   PREFIX/lib/libweft.so              -> libweft.so.1 (the link `cc -lweft` uses)
#   PREFIX/include/weft/*.h            the public headers
#   PREFIX/lib/pkgconfig/weft.pc       for `pkg-config --cflags --libs weft`
#   PREFIX/lib/lua/5.4/weft.so         the Lua 5.4 module (require "weft")
#   PREFIX/lib/lua/5.1/weft.so         the LuaJIT 2.1 module
# and the Python package weft (see install_python below):
#   PREFIX/lib/python3/dist-packages/weft/   _capi.so (optimised), capi.py, *.py
#
# Run it as `bazel run //:install -- --prefix DIR` (DIR defaults to /usr/local;
# a relative DIR is taken from the directory bazel was run in). Bazel passes
# the files to install first, then `--`, then the user's arguments:
#   install.sh LIBRARY PC_TEMPLATE HEADER... [--lua-module=LUAVER:FILE...] [--python EXTENSION PY...] -- [--prefix DIR]
# Idempotent: running it again replaces the same files with the same content.
set -euo pipefail

die_usage() {
  echo "weft install: $1" >&2
  echo "usage: bazel run //:install -- [--prefix DIR]   (default /usr/local)" >&2
  exit 2
}

# The files Bazel built, up to "--".
[ "$#" -ge 3 ] || die_usage "internal error: no files to install (run it through bazel run //:install)"
lib="$1"
pc_template="$2"
shift 2
headers=()
lua_modules=() # LUAVER:FILE, see install_lua_modules
while [ "$#" -gt 0 ] && [ "$1" != "--" ] && [ "$1" != "--python" ]; do
  case "$1" in
    --lua-module=*) lua_modules+=("${1#--lua-module=}") ;;
    *) headers+=("$1") ;;
  esac
  shift
done
# The Python package's files, if given: the extension, then its .py files.
python_files=()
if [ "$#" -gt 0 ] && [ "$1" = "--python" ]; then
  shift
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    python_files+=("$1")
    shift
  done
  [ "${#python_files[@]}" -ge 2 ] || die_usage "internal error: --python needs the extension and its .py files"
fi
[ "$#" -gt 0 ] || die_usage "internal error: no -- after the files to install"
shift
for f in "$lib" "$pc_template" "${headers[@]}" "${python_files[@]}"; do
  [ -f "$f" ] || die_usage "internal error: $f is missing (run it through bazel run //:install)"
done

# The user's arguments.
prefix=/usr/local
while [ "$#" -gt 0 ]; do
  case "$1" in
    --prefix)
      [ "$#" -ge 2 ] || die_usage "--prefix needs a directory"
      prefix="$2"
      shift 2
      ;;
    --prefix=*)
      prefix="${1#--prefix=}"
      shift
      ;;
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      die_usage "unknown argument '$1'"
      ;;
  esac
done
[ -n "$prefix" ] || die_usage "--prefix needs a directory, not an empty string"
if [[ "$prefix" != /* ]]; then
  # bazel run starts this in its runfiles tree; BUILD_WORKING_DIRECTORY is
  # where the user typed the command.
  prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix"
fi
if [ -e "$prefix" ] && [ ! -d "$prefix" ]; then
  die_usage "--prefix $prefix exists and is not a directory"
fi

version="$(sed -n 's/^#define WEFT_VERSION_STRING "\(.*\)"$/\1/p' \
  "$(dirname "${headers[0]}")/version.h")"
[ -n "$version" ] || die_usage "internal error: no WEFT_VERSION_STRING in weft/version.h"
soname="libweft.so.${version%%.*}"

libdir="$prefix/lib"
includedir="$prefix/include/weft"
if ! mkdir -p "$libdir/pkgconfig" "$includedir" 2>/dev/null || [ ! -w "$libdir" ]; then
  echo "weft install: cannot write to $prefix (try another --prefix, or sudo)" >&2
  exit 1
fi

install -m 0755 "$lib" "$libdir/libweft.so.$version"
ln -sfn "libweft.so.$version" "$libdir/$soname"
ln -sfn "$soname" "$libdir/libweft.so"
install -m 0644 "${headers[@]}" "$includedir/"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" "$pc_template" >"$libdir/pkgconfig/weft.pc.tmp"
mv "$libdir/pkgconfig/weft.pc.tmp" "$libdir/pkgconfig/weft.pc"

# --- The Python package -----------------------------------------------------
# PREFIX/lib/python3/dist-packages/weft/: the extension _capi.so (its rpath
# $ORIGIN/../../.. finds PREFIX/lib/libweft.so.1), the SWIG-generated
# capi.py and the package's hand-written modules. Use it with
#   PYTHONPATH=PREFIX/lib/python3/dist-packages /usr/bin/python3 -c 'import weft'
install_python() {  # install_python EXTENSION PY...
  local package="$prefix/lib/python3/dist-packages/weft"
  mkdir -p "$package"
  install -m 0755 "$1" "$package/_capi.so"
  shift
  install -m 0644 "$@" "$package/"
  # What an earlier install compiled is stale now.
  rm -rf "$package/__pycache__"
  echo "  $package/ (the Python package: _capi.so + ${#@} modules)"
}

# --- The Lua modules --------------------------------------------------------
# Each LUAVER:FILE goes to PREFIX/lib/lua/LUAVER/weft.so, where that
# interpreter's package.cpath looks under PREFIX (5.4: Lua 5.4, 5.1:
# LuaJIT). The modules carry the rpath $ORIGIN/../.., so they find
# PREFIX/lib/libweft.so.1 wherever PREFIX is.
install_lua_modules() {
  local entry luaver file
  for entry in "${lua_modules[@]}"; do
    luaver="${entry%%:*}"
    file="${entry#*:}"
    [ -f "$file" ] || die_usage "internal error: $file is missing (run it through bazel run //:install)"
    mkdir -p "$libdir/lua/$luaver"
    install -m 0755 "$file" "$libdir/lua/$luaver/weft.so"
    echo "  $libdir/lua/$luaver/weft.so (require \"weft\" with LUA_CPATH=\"$libdir/lua/$luaver/?.so;;\")"
  done
}

echo "weft $version installed in $prefix:"
echo "  $libdir/libweft.so.$version (+ $soname, libweft.so)"
echo "  $includedir/ (${#headers[@]} headers)"
echo "  $libdir/pkgconfig/weft.pc"
if [ "${#python_files[@]}" -gt 0 ]; then
  install_python "${python_files[@]}"
fi
if [ "${#lua_modules[@]}" -gt 0 ]; then install_lua_modules; fi
# The dynamic linker's cache knows system prefixes only after ldconfig.
if [ "$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null &&
  { [ "$prefix" = /usr/local ] || [ "$prefix" = /usr ]; }; then
  ldconfig
elif [ "$prefix" != /usr/local ] && [ "$prefix" != /usr ]; then
  echo "Build with: cc prog.c \$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs weft)"
  echo "Run with LD_LIBRARY_PATH=$libdir, or link with -Wl,-rpath,$libdir."
fi
