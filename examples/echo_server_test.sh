#!/usr/bin/env bash
# Starts the echo server on a kernel-chosen port, echoes a few lines through
# it (bash's /dev/tcp), stops it with SIGTERM and checks that it shut down
# gracefully (exit 0, "shutting down" printed).
set -euo pipefail
server="$1"
out="${TEST_TMPDIR:-/tmp}/echo_server.out"

: > "$out"  # exists before the server starts writing to it (the sed below reads it)
"$server" --port 0 > "$out" 2>&1 &
pid=$!
trap 'kill -KILL $pid 2>/dev/null || true' EXIT

port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/^echo server listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "the server did not say where it listens:"; cat "$out"; exit 1; }

exec 3<>"/dev/tcp/127.0.0.1/$port"
for line in "hello" "weft echoes" "the third line"; do
  printf '%s\n' "$line" >&3
  IFS= read -r -t 5 answer <&3
  [ "$answer" = "$line" ] || { echo "sent '$line', got '$answer'"; exit 1; }
done
# A second connection while the first is still open.
exec 4<>"/dev/tcp/127.0.0.1/$port"
printf 'second\n' >&4
IFS= read -r -t 5 answer <&4
[ "$answer" = "second" ] || { echo "second connection got '$answer'"; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
cat "$out"
[ "$status" -eq 0 ] || { echo "the server exited with $status"; exit 1; }
grep -q "shutting down (SIGTERM)" "$out" || { echo "no graceful shutdown message"; exit 1; }
# Its connections were closed: reading ends.
if IFS= read -r -t 5 answer <&3; then echo "connection still open after shutdown"; exit 1; fi
echo "echo server test: ok"
