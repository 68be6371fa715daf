"""Twin test classes for weft.Loop: each behaviour test is written once in a
mixin and runs against weft's loop (WeftLoop*) and asyncio's default loop
(AsyncioLoop*), so any difference between the two shows.

    class CallSoonCases(LoopCase):
        def test_fifo(self): ...
    class TestWeftCallSoon(CallSoonCases, WeftLoop): pass
    class TestAsyncioCallSoon(CallSoonCases, AsyncioLoop): pass

Each test gets a fresh loop in self.loop (closed afterwards) and runs on the
test's thread.
"""
import asyncio
import gc

import weft


class LoopCase:
    """Mixin base: fresh loop per test (new_loop and is_weft come from
    WeftLoop or AsyncioLoop)."""

    def setup_method(self, method):
        self.loop = self.new_loop()
        asyncio.set_event_loop(None)

    def teardown_method(self, method):
        if not self.loop.is_closed():
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()
        self.loop = None
        gc.collect()

    def run_briefly(self, seconds=0.0):
        self.loop.run_until_complete(asyncio.sleep(seconds))


class WeftLoop:
    is_weft = True

    def new_loop(self):
        return weft.new_event_loop()


class AsyncioLoop:
    is_weft = False

    def new_loop(self):
        return asyncio.new_event_loop()
