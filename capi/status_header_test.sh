#!/usr/bin/env bash
# Regenerates weft/status.h from core/errc.h and compares it with the
# committed header. Usage: status_header_test.sh GEN ERRC_H STATUS_H
set -euo pipefail
generated="${TEST_TMPDIR:-/tmp}/status.h"
/usr/bin/python3 "$1" "$2" > "$generated"
if ! diff -u "$3" "$generated"; then
  echo "capi/include/weft/status.h is out of date; run:" >&2
  echo "  python3 capi/gen_status_h.py core/errc.h > capi/include/weft/status.h" >&2
  exit 1
fi
echo "weft/status.h matches WEFT_ERRC_MAP"
