#!/usr/bin/env bash
# Installs weft with capi/install/install.sh into $TEST_TMPDIR/prefix (twice:
# the second run must change nothing), checks the layout and the refusals of
# bad arguments, then builds installed_hello.c with the system cc and
# `pkg-config --cflags --libs weft` and runs it two ways: with
# LD_LIBRARY_PATH, and linked with an rpath.
# Usage: install_test.sh HELLO_C INSTALL_SH LIBRARY PC_TEMPLATE HEADER...
set -euo pipefail
hello_c="$PWD/$1"
install_sh="$PWD/$2"
files=()
for f in "${@:3}"; do files+=("$PWD/$f"); done
prefix="$TEST_TMPDIR/prefix"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Bad arguments: exit code 2 and a message naming the problem.
expect_refusal() {  # expect_refusal WORDS_IN_MESSAGE ARGS...
  local want="$1" out rc=0
  shift
  out="$("$install_sh" "${files[@]}" -- "$@" 2>&1)" || rc=$?
  [ "$rc" -eq 2 ] || fail "install.sh $* exited $rc, not 2: $out"
  grep -q -- "$want" <<<"$out" || fail "install.sh $*: no '$want' in: $out"
  grep -q "usage: bazel run //:install" <<<"$out" || fail "install.sh $*: no usage line in: $out"
}
expect_refusal "unknown argument '--bogus'" --bogus
expect_refusal "--prefix needs a directory" --prefix
expect_refusal "not an empty string" --prefix ""
touch "$TEST_TMPDIR/a-file"
expect_refusal "is not a directory" --prefix "$TEST_TMPDIR/a-file"
[ ! -e "$prefix" ] || fail "a refused install created $prefix"

# Install twice; the second run must leave the same tree.
listing() { (cd "$prefix" && find . -printf '%p %y %l\n' | sort && find . -type f -exec md5sum {} + | sort); }
"$install_sh" "${files[@]}" -- --prefix "$prefix" >/dev/null
first="$(listing)"
"$install_sh" "${files[@]}" -- --prefix="$prefix" >/dev/null
[ "$first" = "$(listing)" ] || fail "a second install changed the tree"

# The layout: the library, its soname and dev links, headers, weft.pc.
lib="$prefix/lib"
version="$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --modversion weft)"
major="${version%%.*}"
[ "$(readlink "$lib/libweft.so")" = "libweft.so.$major" ] || fail "libweft.so does not point to libweft.so.$major"
[ "$(readlink "$lib/libweft.so.$major")" = "libweft.so.$version" ] || fail "libweft.so.$major does not point to libweft.so.$version"
# (Each tool's output is read whole before grep -q looks at it: with pipefail,
# a `tool | grep -q` pipeline fails when grep stops reading early.)
grep -q "Library soname: \[libweft.so.$major\]" <<<"$(readelf -d "$lib/libweft.so.$version")" ||
  fail "SONAME is not libweft.so.$major"
cmp -s "$lib/libweft.so.$version" "${files[0]}" || fail "the installed library is not the optimised build"
for h in "${files[@]:2}"; do
  cmp -s "$h" "$prefix/include/weft/$(basename "$h")" || fail "header $(basename "$h") not installed"
done
grep -q '^libuv' <<<"$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --print-requires-private weft)" ||
  fail "weft.pc does not require libuv privately"

# Build and run outside Bazel, as a user would.
export PKG_CONFIG_PATH="$lib/pkgconfig"
cd "$TEST_TMPDIR"
expected="weft $version, ABI $major
call_soon: WEFT_OK
timer: WEFT_OK
run: WEFT_OK"

# shellcheck disable=SC2046  # pkg-config's output is a list of words
cc -std=c99 -Wall -Wextra -Werror -o hello "$hello_c" $(pkg-config --cflags --libs weft)
grep -q "Shared library: \[libweft.so.$major\]" <<<"$(readelf -d hello)" ||
  fail "hello does not need libweft.so.$major"
grep -q "libweft.so.$major => $lib/" <<<"$(LD_LIBRARY_PATH="$lib" ldd ./hello)" ||
  fail "with LD_LIBRARY_PATH, hello does not load the installed libweft"
out="$(LD_LIBRARY_PATH="$lib" ./hello)" || fail "hello (LD_LIBRARY_PATH) failed: $out"
[ "$out" = "$expected" ] || fail "hello (LD_LIBRARY_PATH) printed: $out"

# shellcheck disable=SC2046
cc -std=c99 -o hello_rpath "$hello_c" $(pkg-config --cflags --libs weft) \
  -Wl,-rpath,"$(pkg-config --variable=libdir weft)"
grep -q "libweft.so.$major => $lib/" <<<"$(env -u LD_LIBRARY_PATH ldd ./hello_rpath)" ||
  fail "hello_rpath does not load the installed libweft"
out="$(env -u LD_LIBRARY_PATH ./hello_rpath)" || fail "hello_rpath failed: $out"
[ "$out" = "$expected" ] || fail "hello_rpath printed: $out"

echo "PASS: weft $version installed, built with pkg-config and run (LD_LIBRARY_PATH and rpath)"
