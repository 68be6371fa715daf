#!/usr/bin/env bash
# Installs weft with its Python package (capi/install/install.sh --python)
# into $TEST_TMPDIR/prefix, twice (the second run must change nothing),
# checks the package's layout and the extension's rpath, then imports weft
# with Debian's /usr/bin/python3 from outside Bazel
# (PYTHONPATH=<prefix>/lib/python3/dist-packages, no LD_LIBRARY_PATH) and
# runs a timer, a future and pool work through it.
# Usage: python_install_test.sh INSTALL_SH LIBRARY PC_TEMPLATE EXTENSION HEADER... --python PY...
set -euo pipefail
install_sh="$PWD/$1"
lib_file="$PWD/$2"
pc_file="$PWD/$3"
extension="$PWD/$4"
shift 4
headers=()
while [ "$#" -gt 0 ] && [ "$1" != "--python" ]; do headers+=("$PWD/$1"); shift; done
shift
py_files=()
for f in "$@"; do py_files+=("$PWD/$f"); done
prefix="$TEST_TMPDIR/prefix"
fail() { echo "FAIL: $*" >&2; exit 1; }

files=("$lib_file" "$pc_file" "${headers[@]}" --python "$extension" "${py_files[@]}")
listing() { (cd "$prefix" && find . -printf '%p %y %l\n' | sort && find . -type f -exec md5sum {} + | sort); }
out="$("$install_sh" "${files[@]}" -- --prefix "$prefix")"
grep -q "lib/python3/dist-packages/weft/ (the Python package" <<<"$out" || fail "no Python line in: $out"
first="$(listing)"
"$install_sh" "${files[@]}" -- --prefix "$prefix" >/dev/null
[ "$first" = "$(listing)" ] || fail "a second install changed the tree"

# A --python group without its files is refused.
rc=0
out="$("$install_sh" "$lib_file" "$pc_file" "${headers[@]}" --python -- --prefix "$TEST_TMPDIR/other" 2>&1)" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--python needs" <<<"$out" || fail "an empty --python group was not refused ($rc): $out"

site="$prefix/lib/python3/dist-packages"
package="$site/weft"
[ -f "$package/_capi.so" ] || fail "no $package/_capi.so"
[ -f "$package/capi.py" ] || fail "no generated capi.py"
for f in "${py_files[@]}"; do
  cmp -s "$f" "$package/$(basename "$f")" || fail "$(basename "$f") not installed"
done
cmp -s "$extension" "$package/_capi.so" || fail "the installed extension is not the optimised build"
grep -q 'RUNPATH.*\$ORIGIN/\.\./\.\./\.\.' <<<"$(readelf -d "$package/_capi.so")" ||
  fail "the extension has no \$ORIGIN/../../.. runpath"

# Outside Bazel: another directory, no LD_LIBRARY_PATH, only PYTHONPATH.
cd "$TEST_TMPDIR"
out="$(env -u LD_LIBRARY_PATH -u PYTHONHOME PYTHONPATH="$site" /usr/bin/python3 -c '
import sys
import weft
from weft import capi

assert weft.__file__.startswith(sys.argv[1]), weft.__file__
maps = open("/proc/self/maps").read()
libweft = sorted({line.split()[-1] for line in maps.splitlines() if "libweft.so" in line})
assert libweft and all(p.startswith(sys.argv[2]) for p in libweft), libweft

options = capi.weft_runtime_options()
options.threads = 1
runtime = capi.weft_runtime_create(options)
loop = capi.weft_runtime_loop(runtime)
fired = []
timer = capi.weft_loop_call_later(loop, 2_000_000, lambda status, message: fired.append(status))
work = capi.weft_executor_submit(capi.weft_runtime_pool(runtime), loop, lambda: 6 * 7)
capi.weft_loop_run(loop, capi.WEFT_RUN_DEFAULT)
print("timer:", capi.weft_status_name(fired[0]))
print("work:", capi.weft_future_result(work)[1])
try:
    capi.weft_loop_call_soon(loop, None)
except weft.InvalidArgumentError as e:
    print("error:", type(e).__name__)
capi.weft_future_release(timer)
capi.weft_future_release(work)
capi.weft_runtime_destroy(runtime)
print("weft", capi.weft_version_string())
' "$package" "$prefix/lib/")" || fail "importing the installed weft failed: $out"
version="$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion weft)"
expected="timer: WEFT_OK
work: 42
error: InvalidArgumentError
weft $version"
[ "$out" = "$expected" ] || fail "the installed weft printed: $out"
echo "PASS: the Python package installed in $site and imported outside Bazel"
