#!/usr/bin/env bash
# Installs, from Debian's packages, whatever weft's build, tests, examples and
# benchmarks need and this machine lacks. Idempotent: when everything is present it
# only checks and returns in about a second. Needs root (or sudo) to install.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-java bazel-platforms   # the build (Bazel 4.2.3)
  g++ libuv1-dev                                     # compiler, event loop
  catch2 libcmocka-dev                               # C++ and C test frameworks
  clang-14 libclang-rt-14-dev                        # clang config, sanitizer runtimes
  swig python3-dev python3-pytest                    # bindings
  python3-uvloop libpython3.11-testsuite             # Python loop: the loop compared, CPython's asyncio tests
  python3-distributed                                # run_in_executor on a dask cluster
  openssl                                            # Python loop: TLS tests make their certificate
  abigail-tools                                      # C ABI baseline check (abidw, abidiff)
  pkg-config                                         # the install test builds with weft.pc
  liblua5.4-dev lua5.4 luajit libluajit-5.1-dev     # Lua bindings (Lua 5.4 and LuaJIT)
  lua-luv                                            # the Lua loop compared
  redis-server nginx-light mariadb-server mariadb-client  # real servers the tests start (tests/servers)
  redis-tools wrk golang-go                          # redis-benchmark, wrk and Go's net/http compared
  curl                                               # a real client of the example HTTP servers' tests
  libssl-dev libhttp-parser-dev libhiredis-dev       # TLS streams, HTTP/1.1 and RESP parsing
  python3-aiohttp python3-fastapi python3-uvicorn    # the seeds' Python programs on weft's loop
  python3-httptools                                  # uvicorn's C HTTP parser (what uvicorn[standard] has)
  python3-aioredis python3-redis python3-aiomysql
  python3-matplotlib                                 # the benchmark report's charts (tests/bench/report)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "weft setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "weft setup: done" >&2
