"""W12 (http_hello): weft's example HTTP servers, C++ (examples/http_server)
and C (examples/c/http_server.c), against Go's net/http
(tests/bench/go/hello_server.go) and a floor with no runtime at all
(tests/bench/http/epoll_hello_server.c: bare epoll, the same bytes), each
answering "hello" to `wrk -t1 -c64 -d5s`, in one run, alternating the
servers repeat by repeat.

    /usr/bin/python3 tests/bench/http/w12.py [--repeat K] [--duration S] [--skip-build]
                                     [--impls weft,weft-c,go,go-1p,epoll]

Run from the repository root. It builds the weft servers and the floor optimised
(bazel --config=opt) and the Go server (`go build`, its cache and GOPATH in
a temporary directory, standard library only), then for each repeat and
server: starts it on a kernel-chosen port of 127.0.0.1, warms it up with a
1-s wrk run, reads its CPU time (utime + stime, /proc/PID/stat), runs wrk,
reads the CPU time again, and stops it with SIGTERM (it must exit 0).

One JSON object per line (tests/bench/README.md):
  {"impl":"weft","workload":"W12_http_hello","requests":...,"seconds":...,
   "ops_per_s":...,"cpu_us_per_request":...,"p50_us":...,"p99_us":...,
   "errors":0,"connections":64,"loadavg":...,"repeat":0}
impl is weft (C++), weft-c (the C API), go (Go's defaults: GOMAXPROCS is the
number of cores), go-1p (GOMAXPROCS=1: one thread running Go code, as the
weft servers have one loop thread) or epoll (the floor: what the kernel's
read, write and epoll_wait cost, with next to nothing in user space).
cpu_us_per_request is the server's CPU time (all its threads, user +
system) over the timed run divided by the requests wrk completed. With --repeat K > 1 a final line per
impl gives the medians. A run with socket errors or non-2xx answers is
reported (errors > 0) and makes the script exit 1.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOAD = "W12_http_hello"
CONNECTIONS = 64
TICKS = os.sysconf("SC_CLK_TCK")


IMPLS = ("weft", "weft-c", "go", "go-1p", "epoll")
BAZEL_TARGETS = {"weft": "examples/http_server/http_server",
                 "weft-c": "examples/c/http_server",
                 "epoll": "tests/bench/http/epoll_hello_server"}


def built_binaries(build):
    """The servers built with bazel --config=opt (built now if `build`)."""
    if build:
        subprocess.run(["bazel", "build", "--config=opt"] +
                       ["//" + os.path.dirname(path) + ":" + os.path.basename(path)
                        for path in BAZEL_TARGETS.values()], check=True)
    bin_dir = subprocess.run(["bazel", "info", "--config=opt", "bazel-bin"], check=True,
                             capture_output=True, text=True).stdout.strip()
    return {impl: os.path.join(bin_dir, path) for impl, path in BAZEL_TARGETS.items()}


def build_go(scratch):
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "go", "hello_server.go")
    binary = os.path.join(scratch, "hello_server")
    env = dict(os.environ, GOCACHE=os.path.join(scratch, "gocache"),
               GOPATH=os.path.join(scratch, "gopath"), GOFLAGS="", GOPROXY="off",
               GO111MODULE="off", CGO_ENABLED="0")
    subprocess.run(["go", "build", "-o", binary, source], check=True, env=env, cwd=scratch)
    return binary


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / TICKS


def start(binary, env):
    proc = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, **env))
    line = proc.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        proc.kill()
        raise RuntimeError("%s did not say where it listens: %r" % (binary, line))
    return proc, int(match.group(1))


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False
    return code == 0


def to_us(value, unit):
    return float(value) * {"us": 1, "ms": 1000, "s": 1000000}[unit]


def wrk(port, duration):
    result = subprocess.run(["wrk", "-t1", "-c%d" % CONNECTIONS, "-d%ds" % duration, "--latency",
                             "http://127.0.0.1:%d/" % port],
                            capture_output=True, text=True, timeout=duration + 60)
    out = result.stdout
    match = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s)", out)
    if result.returncode != 0 or not match:
        raise RuntimeError("wrk failed: %s %s" % (out, result.stderr))
    figures = {"requests": int(match.group(1)),
               "seconds": to_us(match.group(2), match.group(3)) / 1e6}
    for name, percentile in (("p50_us", "50%"), ("p99_us", "99%")):
        found = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)" % percentile, out, re.M)
        figures[name] = round(to_us(*found.groups()), 1) if found else None
    errors = 0
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if found:
        errors += sum(int(g) for g in found.groups())
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if found:
        errors += int(found.group(1))
    figures["errors"] = errors
    return figures


def measure(impl, binary, env, duration, repeat):
    proc, port = start(binary, env)
    try:
        wrk(port, 1)  # warm-up, not counted
        before = cpu_seconds(proc.pid)
        figures = wrk(port, duration)
        cpu = cpu_seconds(proc.pid) - before
    finally:
        clean = stop(proc)
    requests = figures["requests"]
    line = {"impl": impl, "workload": WORKLOAD, "requests": requests,
            "seconds": round(figures["seconds"], 3),
            "ops_per_s": round(requests / figures["seconds"]),
            "cpu_us_per_request": round(cpu * 1e6 / requests, 2) if requests else None,
            "p50_us": figures["p50_us"], "p99_us": figures["p99_us"],
            "errors": figures["errors"] + (0 if clean else 1), "connections": CONNECTIONS,
            "loadavg": round(os.getloadavg()[0], 2), "repeat": repeat}
    print(json.dumps(line), flush=True)
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--skip-build", action="store_true",
                        help="use the servers already built with --config=opt")
    parser.add_argument("--impls", default=",".join(IMPLS),
                        help="the servers to run, comma-separated (default: all)")
    args = parser.parse_args()
    impls = args.impls.split(",")
    if not impls or any(impl not in IMPLS for impl in impls) or len(set(impls)) != len(impls):
        parser.error("--impls takes some of %s" % ",".join(IMPLS))
    if not 1 <= args.repeat <= 20 or not 1 <= args.duration <= 60:
        parser.error("--repeat must be 1..20 and --duration 1..60")
    wants_go = "go" in impls or "go-1p" in impls
    for tool in ("wrk", "go") if wants_go else ("wrk",):
        if shutil.which(tool) is None:
            sys.exit("w12.py: %s is not installed (bazel/setup.sh installs it)" % tool)

    scratch = tempfile.mkdtemp(prefix="weft_w12_")
    try:
        binaries = built_binaries(not args.skip_build)
        go = build_go(scratch) if wants_go else None
        servers = {impl: (binaries[impl], {}) for impl in ("weft", "weft-c")}
        servers["go"] = (go, {})
        servers["go-1p"] = (go, {"GOMAXPROCS": "1"})
        servers["epoll"] = (binaries["epoll"], {})
        servers = {impl: servers[impl] for impl in impls}
        results = {impl: [] for impl in servers}
        for repeat in range(args.repeat):
            for impl, (binary, env) in servers.items():
                results[impl].append(measure(impl, binary, env, args.duration, repeat))
        failed = any(line["errors"] for lines in results.values() for line in lines)
        if args.repeat > 1:
            for impl, lines in results.items():
                median = {"impl": impl, "workload": WORKLOAD, "repeats": len(lines)}
                for field in ("ops_per_s", "cpu_us_per_request", "p50_us", "p99_us"):
                    values = [line[field] for line in lines if line[field] is not None]
                    median["median_" + field] = statistics.median(values) if values else None
                print(json.dumps(median), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
