#!/usr/bin/env bash
# The ABI check: compares the built libweft.so.1 with the committed baseline.
# Fails on any change abidiff reports other than added functions — a removed
# or changed function, a changed type or struct layout. A deliberate change
# is recorded with capi/abi/update_baseline.sh.
# Usage: check_abi.sh FLAGS_SH BASELINE SO
set -uo pipefail
source "$1"
baseline="$2"
so="$3"
abidiff "${ABIDIFF_FLAGS[@]}" "$baseline" "$so"
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "libweft.so.1's ABI differs from capi/abi/libweft.so.1.abi (abidiff exit code $rc;" \
    "4: changed, 8: incompatible, 1/2: error)." >&2
  echo "If the change is intended, run capi/abi/update_baseline.sh and commit the baseline." >&2
  exit 1
fi
echo "libweft.so.1 matches the ABI baseline ($(grep -c '<elf-symbol' "$baseline") functions)"
