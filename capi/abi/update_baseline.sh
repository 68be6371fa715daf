#!/usr/bin/env bash
# Records libweft.so.1's ABI as the new baseline (capi/abi/libweft.so.1.abi),
# on purpose: run it when a change to the C ABI is intended (a function or an
# enum value added, an option struct grown at its end), review the diff it
# prints, and commit the new baseline with the change. Never to silence
# //capi/abi:abi_check after an accidental change.
set -euo pipefail
cd "$(dirname "$0")/../.."
source capi/abi/abi_flags.sh
bazel build //capi:libweft.so.1
so="$(bazel info bazel-bin)/capi/libweft.so.1"
baseline=capi/abi/libweft.so.1.abi
if [ -f "$baseline" ]; then
  echo "== changes against the old baseline (abidiff exit code $(
    abidiff "${ABIDIFF_FLAGS[@]}" "$baseline" "$so" >/tmp/weft-abi-diff.txt; echo $?)):"
  cat /tmp/weft-abi-diff.txt
fi
abidw "${ABIDW_FLAGS[@]}" --out-file "$baseline" "$so"
echo "== wrote $baseline ($(grep -c '<elf-symbol' "$baseline") exported functions)"
