"""Smoke test of W12's Python benchmark (http_bench.py): uvicorn and aiohttp
"hello" servers on weft's loop, uvloop and asyncio's loop, each under
`wrk -d1s` once. Fails if the program fails (a server did not start, did not
answer "hello", or died), if a line is not a JSON object with the fields the
README names, or if wrk counted no request or any error for a (server, loop).
It checks the output, never the speed. Main thread; owns the http_bench.py
process it starts.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
IMPLS = ("weft", "uvloop", "asyncio")
WORKLOADS = ("W12_http_hello_uvicorn", "W12_http_hello_aiohttp")
FIELDS = ("n", "seconds", "ns_per_op", "ops_per_s", "requests", "server_cpu_us_per_request",
          "errors", "loadavg_1m", "repeat")


def main():
    done = subprocess.run([sys.executable, os.path.join(HERE, "http_bench.py"), "--duration",
                           "1", "--connections", "16"],
                          stdout=subprocess.PIPE, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit("http_bench.py exited with %d (see above)" % done.returncode)
    seen = set()
    for number, text in enumerate(done.stdout.splitlines(), 1):
        try:
            obj = json.loads(text)
        except ValueError as e:
            sys.exit("line %d is not JSON (%s): %r" % (number, e, text))
        if not isinstance(obj, dict):
            sys.exit("line %d is not a JSON object: %r" % (number, text))
        key = (obj.get("impl"), obj.get("workload"))
        if key[0] not in IMPLS or key[1] not in WORKLOADS or key in seen:
            sys.exit("line %d: unknown or repeated (loop, workload): %r" % (number, text))
        seen.add(key)
        for field in FIELDS:
            if not isinstance(obj.get(field), (int, float)):
                sys.exit("line %d: no %s: %r" % (number, field, text))
        if obj["requests"] <= 0 or obj["n"] != obj["requests"]:
            sys.exit("line %d: no request answered: %r" % (number, text))
        if obj["errors"] != 0:
            sys.exit("line %d: wrk saw errors: %r" % (number, text))
        if not obj["ops_per_s"] > 0 or not obj["server_cpu_us_per_request"] >= 0:
            sys.exit("line %d: bad figures: %r" % (number, text))
    missing = {(i, w) for i in IMPLS for w in WORKLOADS} - seen
    if missing:
        sys.exit("no line for %s" % sorted(missing))
    print("%d W12 lines, all well-formed" % len(seen))


if __name__ == "__main__":
    main()
