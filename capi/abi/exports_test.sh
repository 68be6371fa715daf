#!/usr/bin/env bash
# libweft.so.1 exports the weft_* functions, each in the version node WEFT_1
# or in the node of the minor version that added it (WEFT_1.1, ...), the
# nodes themselves, and nothing else (no C++ symbol of the core inside).
# Checks every library it is given (the default and the optimised build).
# Usage: exports_test.sh SO...
set -euo pipefail
status=0
for so in "$@"; do
  name="$(basename "$so")"
  node="WEFT_${name##*.so.}"  # libweft.so.1 -> WEFT_1
  # Global (and weak) symbols only: a local one in the dynamic symbol table
  # cannot be bound from outside (ld puts there the initial-exec thread-locals
  # of core/detail/fast_tls.h, which its TLS relocations name).
  syms="$(nm -D --defined-only "$so" | awk '$(NF - 1) ~ /^[A-Z]$/ { print $NF }')"
  others="$(grep -v -E -e "^weft_[A-Za-z0-9_]*@@$node(\.[0-9]+)?\$" -e "^$node(\.[0-9]+)?\$" <<<"$syms" || true)"
  count="$(grep -c "^weft_" <<<"$syms" || true)"
  if [ -n "$others" ]; then
    echo "FAIL: $so exports more than the weft_* functions in $node and its minor nodes:" >&2
    echo "$others" >&2
    status=1
  elif ! grep -qx "$node" <<<"$syms" || [ "$count" -lt 100 ]; then
    echo "FAIL: $so: no version node $node, or only $count weft_* functions" >&2
    status=1
  else
    echo "ok: $so exports $count weft_* functions in $node ($(grep -c -E "@@$node\.[0-9]+\$" <<<"$syms" || true) in minor nodes) and nothing else"
  fi
done
exit "$status"
