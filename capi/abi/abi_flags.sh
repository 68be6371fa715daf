# Sourced by update_baseline.sh and check_abi.sh: how weft's ABI is read.
# --exported-interfaces-only: only what the exported weft_* functions reach
# (every such type is a public C type; the C++ inside is not ABI).
# No paths, locations or sequence ids: the baseline is stable across
# machines and builds.
ABIDW_FLAGS=(--exported-interfaces-only --no-corpus-path --no-show-locs --no-comp-dir-path --type-id-style hash)
# Functions added within an ABI version are compatible: not reported.
ABIDIFF_FLAGS=(--no-added-syms)
