"""Points CPython's asyncio tests at the loop under test.

Four hooks, each where the tests themselves take their loop from:
- test_events: a subclass of EventLoopTestsMixin whose create_event_loop()
  makes the loop under test (as CPython's own Select/Poll/EPollEventLoopTests
  do for asyncio's loops), limited to scope.EVENT_LOOP_MIXIN_TESTS;
- test_subprocess: a subclass of SubprocessMixin whose setUp makes the loop
  under test (as CPython's per-watcher classes do for asyncio's loop, with
  the watcher each tests), with no child watcher but asyncio's own loop,
  which gets the ThreadedChildWatcher, its default;
- test_utils.TestCase.new_test_loop(): without a time generator it returns
  the loop under test; with one (the test steps a virtual clock and checks
  loop.time() against it) it keeps CPython's TestLoop, which only a loop with
  a virtual clock can stand in for;
- test_runners.BaseTest.new_loop(): the loop under test, with the attribute
  and the shutdown_asyncgens spy that the tests' tearDown checks;
- the network modules whose test classes name their loop in a method
  (test_sock_lowlevel's create_event_loop, test_server's and
  test_buffered_proto's new_loop): a subclass of the class CPython runs on
  asyncio's select() loop, with that method making the loop under test
  (scope.LOOP_PARAMETRIC_CLASSES).
Everything else reaches the loop through the policy (loops.install).
One adaptation: test_utils.TestCase.close_loop reads the private
loop._default_executor; for a loop without that attribute it shuts the
default executor down through the public shutdown_default_executor().
Runs in the runner's child process, before any test.
"""
import unittest

import loops
import scope


def _new_test_loop(make_loop, cpython_new_test_loop):
    def new_test_loop(self, gen=None):
        if gen is not None:
            return cpython_new_test_loop(self, gen)
        loop = make_loop()
        self.set_event_loop(loop)
        return loop
    return new_test_loop


def _runners_new_loop(make_loop):
    def new_loop(self):
        loop = make_loop()
        loop.shutdown_ag_run = False
        shutdown_asyncgens = loop.shutdown_asyncgens

        async def spy_shutdown_asyncgens():
            loop.shutdown_ag_run = True
            await shutdown_asyncgens()
        loop.shutdown_asyncgens = spy_shutdown_asyncgens
        return loop
    return new_loop


def _close_loop(cpython_close_loop):
    def close_loop(loop):
        if hasattr(loop, "_default_executor"):
            return cpython_close_loop(loop)
        if not loop.is_closed():
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    return staticmethod(close_loop)


def event_loop_tests(loop_name, make_loop):
    """test_events' mixin run on the loop under test: a TestCase class."""
    from test.test_asyncio import test_events
    from test.test_asyncio import utils as test_utils

    class_name = "%sEventLoopTests" % loop_name.capitalize()
    cls = type(class_name, (test_events.EventLoopTestsMixin, test_utils.TestCase),
               {"create_event_loop": lambda self: make_loop(),
                "__module__": test_events.__name__})
    return unittest.TestSuite(cls(name) for name in scope.EVENT_LOOP_MIXIN_TESTS)


def subprocess_tests(loop_name, make_loop):
    """test_subprocess's mixin run on the loop under test: a TestCase class.
    weft and uvloop see their children exit by themselves (weft:
    weft_process_wait; uvloop: libuv), so no asyncio child watcher is
    attached to them."""
    import asyncio
    from test.test_asyncio import test_subprocess
    from test.test_asyncio import utils as test_utils
    uses_watcher = loop_name == "asyncio"

    def set_up(self):
        test_utils.TestCase.setUp(self)
        self.loop = make_loop()
        self.set_event_loop(self.loop)
        if uses_watcher:
            watcher = asyncio.ThreadedChildWatcher()
            watcher.attach_loop(self.loop)
            asyncio.get_event_loop_policy().set_child_watcher(watcher)

    def tear_down(self):
        test_utils.TestCase.tearDown(self)
        if uses_watcher:
            policy = asyncio.get_event_loop_policy()
            watcher = policy.get_child_watcher()
            policy.set_child_watcher(None)
            watcher.attach_loop(None)
            watcher.close()

    class_name = "%sSubprocessTests" % loop_name.capitalize()
    cls = type(class_name, (test_subprocess.SubprocessMixin, test_utils.TestCase),
               {"setUp": set_up, "tearDown": tear_down, "__module__": test_subprocess.__name__})
    return unittest.defaultTestLoader.loadTestsFromTestCase(cls)


def loop_parametric_tests(module_name, loop_name, make_loop):
    """The module's loop-parametric classes (scope.LOOP_PARAMETRIC_CLASSES)
    run on the loop under test: a suite, empty for other modules."""
    import importlib
    module = importlib.import_module("test.test_asyncio." + module_name)
    suite = unittest.TestSuite()
    for class_name, method in scope.LOOP_PARAMETRIC_CLASSES.get(module_name, ()):
        base = getattr(module, class_name)
        cls = type("%s%s" % (loop_name.capitalize(), class_name), (base,),
                   {method: lambda self: make_loop(), "__module__": module.__name__})
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(cls))
    return suite


def install(loop_name):
    """Installs the loop as asyncio's default and the hooks above; returns
    the factory the hooks use."""
    loops.install(loop_name)
    make_loop = loops.factory(loop_name)
    from test.test_asyncio import utils as test_utils
    from test.test_asyncio import test_runners
    test_utils.TestCase.new_test_loop = _new_test_loop(make_loop, test_utils.TestCase.new_test_loop)
    test_utils.TestCase.close_loop = _close_loop(test_utils.TestCase.close_loop)
    test_runners.BaseTest.new_loop = _runners_new_loop(make_loop)
    return make_loop
