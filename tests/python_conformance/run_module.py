"""Child process of the conformance runner: runs one module of CPython's
asyncio tests on one loop and prints one JSON object per line on stdout:
  {"event": "start", "id": ...}            before each test
  {"event": "end", "id": ..., "outcome": "passed"|"failed"|"skipped",
   "on_loop": bool, "detail": ...}          after it
  {"event": "done"}                         when the module finished
A watchdog (faulthandler) ends the process if one test runs longer than
--per-test-timeout, so the parent sees a "start" without its "end" and
reruns the module without that test. Single-threaded apart from what the
tests start; owns nothing beyond the process.
"""
import argparse
import faulthandler
import importlib
import json
import sys
import traceback
import unittest

import hooks
import loops
import scope


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def short(err):
    """The last line of a test's exception, for the summary."""
    kind, value, _ = err
    text = "".join(traceback.format_exception_only(kind, value)).strip().splitlines()
    return (text[-1] if text else kind.__name__)[:300]


class LineResult(unittest.TestResult):
    """Prints each test's start and outcome as it happens; full tracebacks
    go to stderr."""

    def __init__(self, per_test_timeout):
        super().__init__()
        self.per_test_timeout = per_test_timeout
        self.outcome = None

    def startTest(self, test):
        super().startTest(test)
        self.outcome = ("passed", "")
        self.loops_before = loops.created
        emit(event="start", id=test.id())
        faulthandler.dump_traceback_later(self.per_test_timeout, exit=True)

    def stopTest(self, test):
        faulthandler.cancel_dump_traceback_later()
        outcome, detail = self.outcome
        emit(event="end", id=test.id(), outcome=outcome, detail=detail,
             on_loop=loops.created > self.loops_before)
        super().stopTest(test)

    def _failed(self, test, err, what):
        sys.stderr.write("%s: %s\n%s\n" % (what, test.id(), self._exc_info_to_string(err, test)))
        if self.outcome[0] != "failed":
            self.outcome = ("failed", short(err))

    def addError(self, test, err):
        super().addError(test, err)
        if isinstance(test, unittest.TestCase):
            self._failed(test, err, "ERROR")
        else:  # a class or module fixture: no test of its own
            sys.stderr.write("FIXTURE ERROR: %s\n%s\n" % (test, self._exc_info_to_string(err, test)))
            emit(event="fixture_error", id=str(test), detail=short(err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._failed(test, err, "FAIL")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failed(test, err, "FAIL (%s)" % subtest)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcome = ("skipped", reason[:300])

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.outcome = ("failed", "unexpected success")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)  # the test's own expectation held


def flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


def selected_tests(module_name, loop_name, make_loop, skip):
    module = importlib.import_module("test.test_asyncio." + module_name)
    tests = list(flatten(unittest.defaultTestLoader.loadTestsFromModule(module)))
    if module_name == "test_events":
        tests += list(flatten(hooks.event_loop_tests(loop_name, make_loop)))
    if module_name == "test_subprocess":
        tests += list(flatten(hooks.subprocess_tests(loop_name, make_loop)))
    tests += list(flatten(hooks.loop_parametric_tests(module_name, loop_name, make_loop)))

    def wanted(test):
        if test.id() in skip:
            return False
        class_id = "%s.%s" % (module_name, type(test).__name__)
        test_id = "%s.%s" % (class_id, test._testMethodName)
        return class_id not in scope.EXCLUDED_CLASSES and test_id not in scope.EXCLUDED_TESTS

    return unittest.TestSuite(t for t in tests if wanted(t))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=loops.NAMES, required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--skip-file", help="file of test ids not to run, one a line")
    parser.add_argument("--per-test-timeout", type=float, default=30.0)
    args = parser.parse_args()
    skip = set()
    if args.skip_file:
        with open(args.skip_file) as f:
            skip = {line.strip() for line in f if line.strip()}
    make_loop = hooks.install(args.loop)
    suite = selected_tests(args.module, args.loop, make_loop, skip)
    suite.run(LineResult(args.per_test_timeout))
    emit(event="done")


if __name__ == "__main__":
    main()
