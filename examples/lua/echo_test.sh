#!/usr/bin/env bash
# Runs examples/lua's echo server and client against each other:
# echo_test.sh INTERP MODULE SERVER CLIENT (the run_lua.sh conventions).
set -euo pipefail
runner=$1 interp=$2 module=$3 server=$4 client=$5
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$runner" "$interp" "$module" "$server" 0 3 > "$out/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$out/server.log" && break
  sleep 0.05
done
port=$(awk '/listening on/ {print $3}' "$out/server.log")
[ -n "$port" ] || { echo "the server did not start"; cat "$out/server.log"; exit 1; }
"$runner" "$interp" "$module" "$client" "$port" 3 alpha beta gamma | tee "$out/client.log"
wait "$server_pid"
cat "$out/server.log"
grep -q "client: 3 connections, 9 lines echoed" "$out/client.log"
grep -q "served 3 connections" "$out/server.log"
[ "$(grep -c 'echoed 3 lines' "$out/server.log")" = 3 ]
echo "1 passed, 0 failed"
