"""W12 in Python: an HTTP/1.1 keep-alive "hello" server on weft's asyncio
loop versus the same server on uvloop (and asyncio's default loop), loaded
with wrk (`wrk -t1 -c64 -d5s`), in one run.

Servers (each in its own interpreter, started by this program with --serve):
  uvicorn      uvicorn 0.17's Server running a bare ASGI app that answers
               "hello" (Config(loop="none"): the loop is the one this
               program makes and runs, uvicorn's own loop setting is not
               used), parsing HTTP with httptools (Debian python3-httptools:
               what uvicorn chooses when it is installed, as uvicorn[standard]
               installs it)
  uvicorn-h11  the same with http="h11": uvicorn's pure-Python parser
  aiohttp      aiohttp.web with one GET / route answering "hello"
All listen on 127.0.0.1 on a socket this program binds (port 0), with
access logs off.

Output: one JSON object per line per (framework, loop, repeat), the loops
alternating within each repeat (weft, uvloop, asyncio, weft, ...):
  {"impl": "weft", "workload": "W12_http_hello_uvicorn", "n": <requests>,
   "seconds": ..., "ns_per_op": ..., "ops_per_s": <requests/s>,
   "requests": ..., "latency_p50_us": ..., "latency_p99_us": ...,
   "server_cpu_us_per_request": ..., "errors": ..., "loadavg_1m": ..., "repeat": 0}
(W12_http_hello_uvicorn_h11 and W12_http_hello_aiohttp for the other servers)
server_cpu_us_per_request is the server process's utime+stime
(/proc/PID/stat) over the wrk run divided by the requests wrk counted;
errors counts wrk's socket errors and non-2xx answers. After the repeats,
one line per (framework, loop) with the medians (median_<field>, repeats)
and, for weft and asyncio, uvloop_ratio: this loop's median requests/s over
uvloop's (above 1: faster than uvloop), and uvloop_cpu_ratio: uvloop's median
server CPU per request over this loop's (above 1: less CPU than uvloop). On
a shared machine the CPU per request is the steadier of the two: requests/s
follows the share of a core the server gets.

  bazel run --config=opt //tests/bench/python:http_bench -- --repeat 3
  ... -- --duration 1 --impl weft --impl uvloop --framework aiohttp

Main thread only; owns the server processes and the wrk processes it starts
(each stopped before the next starts; a server is killed if it does not stop
within 10 s).
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

IMPLS = ("weft", "uvloop", "asyncio")
FRAMEWORKS = ("uvicorn", "uvicorn-h11", "aiohttp")
# uvicorn's HTTP parser per server (Config.http).
UVICORN_PARSERS = {"uvicorn": "httptools", "uvicorn-h11": "h11"}
BODY = b"hello"


# -- the servers (child processes) ------------------------------------------------

def new_loop(impl):
    if impl == "weft":
        import weft
        return weft.new_event_loop()
    if impl == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    if impl == "asyncio":
        import asyncio
        return asyncio.DefaultEventLoopPolicy().new_event_loop()
    raise ValueError(impl)


async def hello_asgi(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


def workload_name(framework):
    return "W12_http_hello_" + framework.replace("-", "_")


def serve_uvicorn(loop, sock, ready, http):
    import uvicorn
    config = uvicorn.Config(hello_asgi, loop="none", http=http, lifespan="off",
                            access_log=False, log_level="warning")
    server = uvicorn.Server(config)

    async def main():
        task = loop.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await __import__("asyncio").sleep(0.01)
        ready()
        await task

    # uvicorn handles SIGTERM itself (loop.add_signal_handler): serve() returns.
    loop.run_until_complete(main())


def serve_aiohttp(loop, sock, ready):
    from aiohttp import web

    async def hello(request):
        return web.Response(body=BODY, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.SockSite(runner, sock)
    loop.run_until_complete(site.start())
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    ready()
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(runner.cleanup())


def serve(framework, impl):
    """The --serve child: binds, prints the port once serving, serves until
    SIGTERM."""
    import asyncio
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    loop = new_loop(impl)
    asyncio.set_event_loop(loop)

    def ready():
        print(port, flush=True)

    try:
        if framework in UVICORN_PARSERS:
            serve_uvicorn(loop, sock, ready, UVICORN_PARSERS[framework])
        else:
            serve_aiohttp(loop, sock, ready)
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    return 0


# -- measuring (the parent) ----------------------------------------------------------

def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime: fields 14 and 15 of proc(5), after the comm field.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6}


def parse_wrk(text):
    """requests, seconds, latency percentiles (µs) and errors from wrk's
    report (with --latency)."""
    match = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", text)
    if match is None:
        raise RuntimeError("wrk printed no request count:\n" + text)
    requests = int(match.group(1))
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[match.group(3)]
    seconds = float(match.group(2)) * scale
    latency = {}
    for percent, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text,
                                           re.MULTILINE):
        latency[percent] = float(value) * _UNITS[unit]
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", text)
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    return requests, seconds, latency, errors


def start_server(framework, impl):
    process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve",
                                framework, "--impl", impl],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # the port, once serving (EOF if it died)
    if not line.strip().isdigit():
        stop_server(process)
        raise RuntimeError("%s server on %s did not start (exit %s)"
                           % (framework, impl, process.returncode))
    return process, int(line)


def stop_server(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.stdout.close()


def check_answer(port):
    """One request by hand: the server answers 200 "hello"."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 200") or not answer.endswith(BODY):
        raise RuntimeError("unexpected answer: %r" % answer[:200])


def measure(framework, impl, args, repeat):
    process, port = start_server(framework, impl)
    try:
        check_answer(port)
        before = cpu_seconds(process.pid)
        # wrk is not ours: no sanitizer runtime preloaded into it.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        done = subprocess.run(["wrk", "-t%d" % args.threads, "-c%d" % args.connections,
                               "-d%ds" % args.duration, "--latency",
                               "http://127.0.0.1:%d/" % port],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env, timeout=args.duration + 60)
        after = cpu_seconds(process.pid)
        if process.poll() is not None:
            raise RuntimeError("the server exited during the run")
    finally:
        stop_server(process)
    if done.returncode != 0:
        raise RuntimeError("wrk failed:\n" + done.stdout)
    requests, seconds, latency, errors = parse_wrk(done.stdout)
    if requests <= 0:
        raise RuntimeError("wrk counted no request:\n" + done.stdout)
    result = {"impl": impl, "workload": workload_name(framework), "n": requests,
              "seconds": seconds, "ns_per_op": seconds * 1e9 / requests,
              "ops_per_s": requests / seconds, "requests": requests,
              "server_cpu_us_per_request": (after - before) * 1e6 / requests,
              "errors": errors, "loadavg_1m": os.getloadavg()[0], "repeat": repeat}
    if "50" in latency:
        result["latency_p50_us"] = latency["50"]
    if "99" in latency:
        result["latency_p99_us"] = latency["99"]
    return result


MEDIAN_FIELDS = ("ops_per_s", "ns_per_op", "server_cpu_us_per_request", "latency_p50_us",
                 "latency_p99_us")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--impl", action="append", choices=IMPLS,
                        help="loop to measure (repeatable; default: all)")
    parser.add_argument("--framework", action="append", choices=FRAMEWORKS,
                        help="server to measure (repeatable; default: all)")
    parser.add_argument("--duration", type=int, default=5, help="wrk -d, seconds")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, (args.impl or ["weft"])[0])
    impls = args.impl or list(IMPLS)
    frameworks = args.framework or list(FRAMEWORKS)
    results = {}
    failed = False
    for repeat in range(args.repeat):
        for framework in frameworks:
            for impl in impls:
                try:
                    result = measure(framework, impl, args, repeat)
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                    sys.stderr.write("%s %s: %s\n" % (impl, framework, e))
                    failed = True
                    continue
                print(json.dumps(result), flush=True)
                results.setdefault((framework, impl), []).append(result)
    if args.repeat > 1:
        medians = {}
        for (framework, impl), runs in results.items():
            line = {"impl": impl, "workload": workload_name(framework),
                    "repeats": len(runs)}
            for field in MEDIAN_FIELDS:
                values = [run[field] for run in runs if field in run]
                if values:
                    line["median_" + field] = statistics.median(values)
            medians[(framework, impl)] = line
        for (framework, impl), line in medians.items():
            uv = medians.get((framework, "uvloop"))
            if impl != "uvloop" and uv is not None:
                line["uvloop_ratio"] = line["median_ops_per_s"] / uv["median_ops_per_s"]
                line["uvloop_cpu_ratio"] = (uv["median_server_cpu_us_per_request"]
                                            / line["median_server_cpu_us_per_request"])
            print(json.dumps(line), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
