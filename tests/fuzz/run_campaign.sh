#!/bin/bash
# A bounded fuzzing campaign for one of weft's fuzz targets, whose new
# corpus entries are merged into the checked-in corpus.
#
#   tests/fuzz/run_campaign.sh TARGET [SECONDS] [libFuzzer flags...]
#   tests/fuzz/run_campaign.sh capi 300
#   tests/fuzz/run_campaign.sh read_until 120 -entropic=0
#
# TARGET is capi, address, read_until, http_session, tls_handshake,
# http_response or redis_reply
# (//tests/fuzz:TARGET_fuzzer);
# SECONDS (default 120) bounds the run. One process, one worker: the
# machine is shared. Run from the repository root.
#
# The campaign's defaults (docs/testing.md, "Figures", says what each
# costs or saves); flags given on the command line come after them and win
# (libFuzzer and the sanitizers take the last value of a flag):
# - ASAN_OPTIONS=quarantine_size_mb=16 (before any ASAN_OPTIONS of the
#   caller's): freed memory held back to catch a use after free is 16 MB,
#   not 256, so the process stays near 100 MB in a minute; a use after
#   free is still caught while the block is in the quarantine;
# - capi: -entropic=0. libFuzzer's entropic schedule updates its rare
#   features' frequencies for every feature an input hits, and this target
#   hits tens of thousands: about half of all CPU time. Without it inputs
#   are picked by the vanilla schedule (by how much coverage they added).
#
# What it does: builds the target with --config=fuzz; fuzzes for SECONDS
# with the checked-in corpus as seeds, new inputs going to a scratch
# directory; then merges (libFuzzer -merge=1) into the checked-in corpus
# only the new inputs that add coverage, and says how many. Crashes are
# kept in the scratch directory (printed) and the script exits 1; without
# one the scratch directory is removed. The fuzz targets' temp files
# (TEST_TMPDIR) go to a directory of their own in /dev/shm when that is a
# writable tmpfs, otherwise under the scratch directory: the C API target
# creates and removes files and sockets by the thousand, and on ext4 each
# new inode is found past every inode freed in the last seconds (12 % of
# that target's CPU time with its temp dir in /tmp, docs/testing.md).
set -euo pipefail

target="${1:?usage: run_campaign.sh capi|address|read_until|http_session|tls_handshake|http_response|redis_reply [SECONDS] [libFuzzer flags...]}"
seconds="${2:-120}"
shift $(( $# >= 2 ? 2 : 1 ))

defaults=()
case "$target" in
  capi) corpus=tests/fuzz/corpus; defaults=(-entropic=0) ;;
  address) corpus=tests/fuzz/address_corpus ;;
  read_until) corpus=tests/fuzz/read_until_corpus ;;
  http_session) corpus=tests/fuzz/http_session_corpus ;;
  tls_handshake) corpus=tests/fuzz/tls_corpus ;;
  http_response) corpus=tests/fuzz/http_response_corpus ;;
  redis_reply) corpus=tests/fuzz/redis_reply_corpus ;;
  *) echo "run_campaign.sh: unknown target '$target' (capi, address, read_until, http_session, tls_handshake, http_response, redis_reply)" >&2; exit 2 ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 1 || seconds > 3600 )); then
  echo "run_campaign.sh: SECONDS must be 1..3600" >&2
  exit 2
fi
if [[ ! -d "$corpus" ]]; then
  echo "run_campaign.sh: run it from the repository root ($corpus not found)" >&2
  exit 2
fi

bazel build --config=fuzz "//tests/fuzz:${target}_fuzzer"
fuzzer="$(bazel info --config=fuzz bazel-bin)/tests/fuzz/${target}_fuzzer"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/weft_campaign_${target}_XXXXXX")"
mkdir -p "$scratch/new"
if [[ "$(stat -f -c %T /dev/shm 2>/dev/null)" == tmpfs && -w /dev/shm ]]; then
  target_tmp="$(mktemp -d "/dev/shm/weft_campaign_${target}_XXXXXX")"
else
  target_tmp="$scratch/tmp"
  mkdir -p "$target_tmp"
fi
trap 'rm -rf "$target_tmp"' EXIT
before=$(ls "$corpus" | wc -l)

echo "fuzzing $target for ${seconds}s (scratch: $scratch)"
status=0
export ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
echo "fuzzer flags: ${defaults[*]} $*; ASAN_OPTIONS=$ASAN_OPTIONS"
TEST_TMPDIR="$target_tmp" timeout --kill-after=30 $(( seconds + 120 )) \
  "$fuzzer" -max_total_time="$seconds" -workers=1 -print_final_stats=1 \
  -artifact_prefix="$scratch/" "${defaults[@]}" "$@" "$scratch/new" "$corpus" > "$scratch/fuzz.log" 2>&1 || status=$?
grep -E '^(stat::|Done)|DONE' "$scratch/fuzz.log" || true

crashes=$(find "$scratch" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \) | wc -l)
if (( status != 0 || crashes > 0 )); then
  echo "the fuzzer stopped with status $status; kept: $scratch (fuzz.log, crash-*/leak-*/timeout-*)" >&2
  grep -E 'invariant violated|ERROR:' "$scratch/fuzz.log" | head -5 >&2 || true
  exit 1
fi

# Only what adds coverage goes into the checked-in corpus.
TEST_TMPDIR="$target_tmp" "$fuzzer" -merge=1 "$corpus" "$scratch/new" > "$scratch/merge.log" 2>&1
after=$(ls "$corpus" | wc -l)
echo "merged: $(( after - before )) new inputs into $corpus ($before -> $after)"
rm -rf "$scratch"
