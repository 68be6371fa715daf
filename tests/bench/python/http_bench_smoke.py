"""Smoke test of W12's Python benchmark (http_bench.py): uvicorn (with
httptools and with h11) and aiohttp "hello" servers on weft's loop, uvloop
and asyncio's loop, each under `wrk -d1s` twice. Fails if the program fails (a server did not start, did not
answer "hello", or died), if a line is not a JSON object with the fields the
README names, if wrk counted no request or any error for a (server, loop), or
if a (server, loop) lacks its median line (with the ratios to uvloop for weft
and asyncio). It checks the output, never the speed. Main thread; owns the
http_bench.py process it starts.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
IMPLS = ("weft", "uvloop", "asyncio")
WORKLOADS = ("W12_http_hello_uvicorn", "W12_http_hello_uvicorn_h11", "W12_http_hello_aiohttp")
FIELDS = ("n", "seconds", "ns_per_op", "ops_per_s", "requests", "server_cpu_us_per_request",
          "errors", "loadavg_1m", "repeat")


def main():
    done = subprocess.run([sys.executable, os.path.join(HERE, "http_bench.py"), "--duration",
                           "1", "--connections", "16", "--repeat", "2"],
                          stdout=subprocess.PIPE, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit("http_bench.py exited with %d (see above)" % done.returncode)
    seen, medians = set(), set()
    for number, text in enumerate(done.stdout.splitlines(), 1):
        try:
            obj = json.loads(text)
        except ValueError as e:
            sys.exit("line %d is not JSON (%s): %r" % (number, e, text))
        if not isinstance(obj, dict):
            sys.exit("line %d is not a JSON object: %r" % (number, text))
        key = (obj.get("impl"), obj.get("workload"))
        if key[0] not in IMPLS or key[1] not in WORKLOADS:
            sys.exit("line %d: unknown (loop, workload): %r" % (number, text))
        if "repeats" in obj:
            if key in medians or obj["repeats"] != 2 or not obj.get("median_ops_per_s", 0) > 0:
                sys.exit("line %d: bad median line %r" % (number, text))
            if key[0] != "uvloop" and not (obj.get("uvloop_ratio", 0) > 0 and
                                           obj.get("uvloop_cpu_ratio", 0) > 0):
                sys.exit("line %d: no ratios to uvloop %r" % (number, text))
            medians.add(key)
            continue
        if (key, obj.get("repeat")) in seen or obj.get("repeat") not in (0, 1):
            sys.exit("line %d: repeated or unknown repeat: %r" % (number, text))
        seen.add((key, obj["repeat"]))
        for field in FIELDS:
            if not isinstance(obj.get(field), (int, float)):
                sys.exit("line %d: no %s: %r" % (number, field, text))
        if obj["requests"] <= 0 or obj["n"] != obj["requests"]:
            sys.exit("line %d: no request answered: %r" % (number, text))
        if obj["errors"] != 0:
            sys.exit("line %d: wrk saw errors: %r" % (number, text))
        if not obj["ops_per_s"] > 0 or not obj["server_cpu_us_per_request"] >= 0:
            sys.exit("line %d: bad figures: %r" % (number, text))
    expected = {(i, w) for i in IMPLS for w in WORKLOADS}
    missing = {(key, r) for key in expected for r in (0, 1)} - seen
    if missing:
        sys.exit("no line for %s" % sorted(missing))
    if expected - medians:
        sys.exit("no median line for %s" % sorted(expected - medians))
    print("%d W12 lines and %d median lines, all well-formed" % (len(seen), len(medians)))


if __name__ == "__main__":
    main()
