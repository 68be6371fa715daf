#!/bin/bash
# System calls per message of W11's bulk echo servers: runs bulk_echo once per
# (server, size) with the server under `perf stat` (the kernel's syscalls:*
# tracepoints; Debian's linux-perf, as root or with perf_event_paranoid <= 1)
# and prints, per server and size, the counts divided by the round trips:
# read(2), write(2), those of each that failed with EAGAIN, epoll_wait (and
# those that found exactly one socket ready: a server that waits for each
# message by itself), epoll_ctl, and every system call. The load changes these
# counts far less than it changes times (epoll_wait aside: how often a server
# runs out of work depends on how fast its peer is). The counts cover the
# server's whole life: starting, accepting the 64 connections (about 3
# epoll_ctl each) and stopping too.
#
#   bazel run --config=opt //tests/bench/bulk:syscall_counts -- [--sizes 16k,1m] [--scale 0.2] [--impl weft]...
#
# The BUILD file passes bulk_echo and the servers (--bulk-echo PATH, --server
# IMPL=PATH). One JSON line per (impl, size). Bounded: one run per pair, each
# within bulk_echo's own time limit.
set -euo pipefail

bulk_echo=""
servers=()
sizes="16k,1m"
scale="0.2"
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bulk-echo) bulk_echo="$(realpath "$2")"; shift 2 ;;
    --server) servers+=("$2"); shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --impl) only+=("$2"); shift 2 ;;
    *) echo "syscall_counts: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$bulk_echo" ] || { echo "syscall_counts: --bulk-echo PATH is required" >&2; exit 2; }
command -v perf >/dev/null || { echo "syscall_counts: perf not found (Debian: linux-perf)" >&2; exit 2; }

work="$(mktemp -d /tmp/syscall-counts-XXXXXX)"
trap 'rm -rf "$work"' EXIT
events="syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait"
events+=",syscalls:sys_enter_epoll_ctl,raw_syscalls:sys_enter"

for spec in "${servers[@]}"; do
  impl="${spec%%=*}"
  path="$(realpath "${spec#*=}")"
  if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " =~ " $impl " ]]; then continue; fi
  IFS=',' read -ra size_list <<<"$sizes"
  for size in "${size_list[@]}"; do
    counts="$work/$impl-$size.perf"
    # bulk_echo starts this wrapper as the server: perf stat runs the real
    # server, and the wrapper passes bulk_echo's SIGTERM on to it, then waits
    # for perf to write its counts.
    wrapper="$work/$impl-$size.sh"
    cat >"$wrapper" <<WRAP
#!/bin/bash
perf stat -x, -o '$counts' -e '$events' \\
  -e syscalls:sys_exit_read --filter 'ret == -11' \\
  -e syscalls:sys_exit_write --filter 'ret == -11' \\
  -e syscalls:sys_exit_epoll_wait --filter 'ret == 1' -- '$path' "\$@" &
perf_pid=\$!
trap 'kill -TERM \$(pgrep -P \$perf_pid)' TERM
wait \$perf_pid || wait \$perf_pid
WRAP
    chmod +x "$wrapper"
    "$bulk_echo" --server "$impl=$wrapper" --sizes "$size" --scale "$scale" >"$work/run.json"
    /usr/bin/python3 - "$impl" "$size" "$work/run.json" "$counts" <<'PY'
import json, sys
impl, size, run_path, counts_path = sys.argv[1:]
run = json.loads(open(run_path).readline())
names = {"syscalls:sys_enter_read": "reads", "syscalls:sys_enter_write": "writes",
         "syscalls:sys_exit_read": "reads_eagain", "syscalls:sys_exit_write": "writes_eagain",
         "syscalls:sys_enter_epoll_wait": "epoll_waits",
         "syscalls:sys_exit_epoll_wait": "epoll_waits_one_ready", "syscalls:sys_enter_epoll_ctl": "epoll_ctls",
         "raw_syscalls:sys_enter": "syscalls"}
out = {"impl": impl, "workload": run["workload"], "n": run["n"]}
for line in open(counts_path):
    fields = line.strip().split(",")
    if len(fields) > 2 and fields[2] in names:
        out[names[fields[2]] + "_per_rt"] = round(int(fields[0]) / run["n"], 3)
if len(out) != 3 + len(names):
    sys.exit(f"syscall_counts: perf counted only {sorted(out)}")
out["mb_per_s"] = run["mb_per_s"]
print(json.dumps(out, separators=(",", ":")))
PY
  done
done
