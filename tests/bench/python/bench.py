"""weft's Python benchmark: the workloads of workloads.py on weft's asyncio
loop, asyncio's default loop and uvloop, in one run.

Prints one JSON object per line per (loop, workload, repeat), as the C
benchmark does (/tests/bench/README.md):
  {"impl": "weft", "workload": "W1_callbacks_chain", "n": 1000000, "seconds": ...,
   "ns_per_op": ..., "ops_per_s": ..., "repeat": 0, ...}
and, with --repeat K > 1, one line per (loop, workload) with the medians
(median_<field>, repeats) and, for weft and asyncio, `uvloop_ratio`: uvloop's
median ns_per_op over this loop's (above 1: faster than uvloop; for W7 the
ratio of bytes per task, above 1: smaller than uvloop).
Every measurement runs in a fresh interpreter (python3 bench.py --child),
the loops alternating within each repeat (weft, asyncio, uvloop, weft, ...),
so one loop's garbage or warm caches never count against another. Main
thread only; owns its child processes.
  bazel run --config=opt //tests/bench/python:bench -- --repeat 5
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
IMPLS = ("weft", "asyncio", "uvloop")


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


def measure(impl, name, n):
    """One measurement in this process: the JSON object, or raises."""
    import asyncio
    from workloads import WORKLOADS
    function, _ = WORKLOADS[name]
    loop = new_loop(impl)
    asyncio.set_event_loop(loop)
    try:
        outcome = function(loop, n)
    finally:
        asyncio.set_event_loop(None)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    seconds, ops = outcome.pop("seconds"), outcome.pop("ops")
    result = {"impl": impl, "workload": name, "n": n, "seconds": seconds,
              "ns_per_op": seconds * 1e9 / ops, "ops_per_s": ops / seconds}
    result.update(outcome)
    return result


def child(args):
    try:
        result = measure(args.impl[0], args.workload, args.n)
    except Exception as e:  # the workload's own check, or the loop failed
        sys.stderr.write("%s %s: %s: %s\n" % (args.impl[0], args.workload, type(e).__name__, e))
        return 1
    print(json.dumps(result))
    return 0


def selected(only):
    from workloads import WORKLOADS
    if not only:
        return list(WORKLOADS)
    names = []
    for want in only:
        matches = [name for name in WORKLOADS if name == want or name.split("_")[0] == want]
        if not matches:
            sys.exit("no workload %r (known: %s)" % (want, ", ".join(WORKLOADS)))
        names += [m for m in matches if m not in names]
    return names


def medians(impl, name, n, runs, uvloop_runs):
    line = {"impl": impl, "workload": name, "n": n, "repeats": len(runs)}
    for field in runs[0]:
        values = [r[field] for r in runs if isinstance(r.get(field), (int, float))]
        if field not in ("n", "repeat") and len(values) == len(runs):
            line["median_" + field] = statistics.median(values)
    if uvloop_runs and impl != "uvloop":
        field = "bytes_per_task" if "bytes_per_task" in runs[0] else "ns_per_op"
        theirs = statistics.median(r[field] for r in uvloop_runs)
        line["uvloop_ratio"] = theirs / line["median_" + field] if line["median_" + field] else None
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="a workload (name or id such as W1); repeatable")
    parser.add_argument("--impl", action="append", choices=IMPLS, help="a loop; repeatable (default: all)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every N")
    parser.add_argument("--list", action="store_true", help="print `impl workload n` lines and exit")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.repeat < 1 or args.scale <= 0:
        sys.exit("--repeat must be at least 1 and --scale above 0")
    from workloads import WORKLOADS
    impls = args.impl or list(IMPLS)
    names = selected(args.only)
    sizes = {name: max(1, int(WORKLOADS[name][1] * args.scale)) for name in names}
    if args.list:
        for name in names:
            for impl in impls:
                print(impl, name, sizes[name])
        return 0
    failures = 0
    runs = {}
    for repeat in range(args.repeat):
        for name in names:
            for impl in impls:
                command = [sys.executable, os.path.join(HERE, "bench.py"), "--child",
                           "--impl", impl, "--workload", name, "--n", str(sizes[name])]
                done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=HERE)
                if done.returncode != 0:
                    failures += 1
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result["repeat"] = repeat
                runs.setdefault((impl, name), []).append(result)
                print(json.dumps(result), flush=True)
    if args.repeat > 1:
        for name in names:
            for impl in impls:
                if runs.get((impl, name)):
                    line = medians(impl, name, sizes[name], runs[(impl, name)],
                                   runs.get(("uvloop", name)))
                    print(json.dumps(line), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
