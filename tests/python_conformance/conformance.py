"""CPython 3.11's asyncio tests on an event loop: the conformance runner.

Runs each in-scope module of test.test_asyncio (scope.py) in a child process
(run_module.py) with the chosen loop installed, prints run/passed/failed/
skipped per module (and how many of them made a loop of the kind under test),
and exits non-zero if a test failed that the expected-failures file does not
list. A test that crashes the child or outlives --per-test-timeout counts as
failed and the module goes on without it. Entries of the file that passed
are reported as stale.

Expected-failures file: one `module.Class.test_name: reason` a line; `#`
starts a comment. Runs on the main thread; owns its child processes.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import loops
import scope

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "test.test_asyncio."
MAX_RESTARTS = 25


def short_id(test_id):
    return test_id[len(PREFIX):] if test_id.startswith(PREFIX) else test_id


def read_expected(path):
    expected = {}
    if not path:
        return expected
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            test_id, sep, reason = line.partition(":")
            if not sep or not reason.strip():
                sys.exit("%s:%d: expected `module.Class.test: reason`" % (path, number))
            expected[test_id.strip()] = reason.strip()
    return expected


def run_module(loop, module, per_test_timeout, module_timeout, log):
    """Runs one module to its end, restarting the child after a crash or a
    hang without the test that caused it. Returns {short id: (outcome,
    detail, on_loop)} and a list of module-level problems."""
    results, problems, blamed = {}, [], set()
    deadline = time.monotonic() + module_timeout
    with tempfile.NamedTemporaryFile("w+", suffix=".skip") as skip_file:
        for _attempt in range(MAX_RESTARTS + 1):
            skip_file.seek(0)
            skip_file.truncate()
            skip_file.write("".join(PREFIX + t + "\n" for t in results))
            skip_file.flush()
            command = [sys.executable, os.path.join(HERE, "run_module.py"), "--loop", loop,
                       "--module", module, "--skip-file", skip_file.name,
                       "--per-test-timeout", str(per_test_timeout)]
            started, done, last_ended = None, False, None
            with tempfile.TemporaryFile("w+") as stderr:
                child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr,
                                         text=True, cwd=HERE)
                try:
                    remaining = max(1.0, deadline - time.monotonic())
                    out, _ = child.communicate(timeout=remaining)
                except subprocess.TimeoutExpired:
                    child.kill()
                    out, _ = child.communicate()
                    problems.append("module time limit (%ds) reached" % module_timeout)
                stderr.seek(0)
                err_text = stderr.read()
            log.write("==== %s on %s (rc %s)\n%s\n" % (module, loop, child.returncode, err_text))
            for line in out.splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a test printed to stdout
                if event.get("event") == "start":
                    started = short_id(event["id"])
                elif event.get("event") == "end":
                    results[short_id(event["id"])] = (event["outcome"], event["detail"],
                                                      event["on_loop"])
                    started, last_ended = None, short_id(event["id"])
                elif event.get("event") == "fixture_error":
                    problems.append("fixture %s: %s" % (event["id"], event["detail"]))
                elif event.get("event") == "done":
                    done = True
            if done and child.returncode == 0:
                break
            if done:
                problems.append("exit status %s after the last test (at interpreter exit): %s"
                                % (child.returncode, err_text.strip()[-200:]))
                break
            if problems and problems[-1].startswith("module time limit"):
                if started:
                    results[started] = ("failed", "hung (module time limit)", True)
                break
            tail = [l for l in err_text.strip().splitlines() if l.strip()][-1:]
            if started is None:
                # Between tests: a test's own cleanup (e.g. IsolatedAsyncioTestCase
                # closing its runner) raised past unittest. Blame the last test
                # that ended and go on without it; with no test yet, give up.
                if last_ended is None or last_ended in blamed:
                    problems.append("child exited with %s outside any test: %s"
                                    % (child.returncode, " ".join(tail)[:200]))
                    break
                blamed.add(last_ended)
                results[last_ended] = ("failed", "its cleanup killed the test process (exit %s): %s"
                                       % (child.returncode, " ".join(tail)[:200]), True)
                continue
            results[started] = ("failed", "crashed or hung (exit %s): %s"
                                % (child.returncode, " ".join(tail)[:200]), True)
        else:
            problems.append("gave up after %d restarts" % MAX_RESTARTS)
    return results, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=loops.NAMES, default="weft")
    parser.add_argument("--modules", nargs="+", default=list(scope.MODULES),
                        help="modules of test.test_asyncio to run (default: all in scope)")
    parser.add_argument("--expected-failures", help="file of failures that do not fail the run")
    parser.add_argument("--per-test-timeout", type=float, default=30.0)
    parser.add_argument("--module-timeout", type=float, default=240.0)
    parser.add_argument("--log", default=os.path.join(
        os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", tempfile.gettempdir()), "conformance.log"),
                        help="where the tests' tracebacks go")
    parser.add_argument("--json", help="also write every test's outcome here")
    args = parser.parse_args()
    unknown = set(args.modules) - set(scope.MODULES)
    if unknown:
        sys.exit("not in scope: %s" % ", ".join(sorted(unknown)))
    expected = read_expected(args.expected_failures)

    all_results, unexpected, stale, module_problems = {}, [], [], []
    print("CPython %s asyncio tests on the %s loop" % (sys.version.split()[0], args.loop))
    print("%-16s %5s %6s %6s %7s %8s" % ("module", "run", "passed", "failed", "skipped", "on loop"))
    totals = [0, 0, 0, 0, 0]
    with open(args.log, "w") as log:
        for module in args.modules:
            started = time.monotonic()
            results, problems = run_module(args.loop, module, args.per_test_timeout,
                                           args.module_timeout, log)
            counts = [len(results),
                      sum(1 for r in results.values() if r[0] == "passed"),
                      sum(1 for r in results.values() if r[0] == "failed"),
                      sum(1 for r in results.values() if r[0] == "skipped"),
                      sum(1 for r in results.values() if r[2] and r[0] != "skipped")]
            totals = [a + b for a, b in zip(totals, counts)]
            print("%-16s %5d %6d %6d %7d %8d   (%.1fs)"
                  % ((module,) + tuple(counts) + (time.monotonic() - started,)))
            sys.stdout.flush()
            for problem in problems:
                module_problems.append("%s: %s" % (module, problem))
            all_results.update(results)
    print("%-16s %5d %6d %6d %7d %8d" % (("total",) + tuple(totals)))

    for test_id, (outcome, detail, _) in sorted(all_results.items()):
        if outcome == "failed" and test_id not in expected:
            unexpected.append((test_id, detail))
        elif outcome == "passed" and test_id in expected:
            stale.append(test_id)
    failed_expected = sum(1 for t, r in all_results.items() if r[0] == "failed" and t in expected)
    print("failures listed as expected: %d" % failed_expected)
    for test_id in stale:
        print("STALE (now passes; remove from the list): %s" % test_id)
    for problem in module_problems:
        print("MODULE PROBLEM: %s" % problem)
    for test_id, detail in unexpected:
        print("UNEXPECTED FAILURE: %s: %s" % (test_id, detail))
    if args.json:
        with open(args.json, "w") as f:
            for test_id, (outcome, detail, on_loop) in sorted(all_results.items()):
                f.write(json.dumps({"id": test_id, "outcome": outcome, "detail": detail,
                                    "on_loop": on_loop}) + "\n")
    if unexpected or module_problems:
        print("FAILED: %d unexpected failures, %d module problems (tracebacks: %s)"
              % (len(unexpected), len(module_problems), args.log))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
