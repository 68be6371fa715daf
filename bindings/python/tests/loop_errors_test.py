"""The exception handler API, asyncio's default handler and its message
format, and debug mode (slow callbacks, never-retrieved exceptions, creation
tracebacks, coroutine origin tracking), on weft's loop and asyncio's."""
import asyncio
import gc
import logging
import sys

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop


def _fail():
    raise ValueError("boom")


class ErrorCases(LoopCase):
    def test_exception_in_callback_goes_to_the_handler(self):
        contexts = []
        self.loop.set_exception_handler(lambda loop, ctx: contexts.append((loop, ctx)))
        handle = self.loop.call_soon(_fail)
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert len(contexts) == 1
        loop, ctx = contexts[0]
        assert loop is self.loop
        assert ctx["message"].startswith("Exception in callback _fail()")
        assert isinstance(ctx["exception"], ValueError)
        assert ctx["handle"] is handle

    def test_handler_api(self):
        assert self.loop.get_exception_handler() is None
        handler = lambda loop, ctx: None  # noqa: E731
        self.loop.set_exception_handler(handler)
        assert self.loop.get_exception_handler() is handler
        with pytest.raises(TypeError):
            self.loop.set_exception_handler(1)
        self.loop.set_exception_handler(None)
        assert self.loop.get_exception_handler() is None

    def test_default_handler_logs_in_asyncios_format(self, caplog):
        caplog.set_level(logging.ERROR, logger="asyncio")
        self.loop.call_soon(_fail)
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        records = [r for r in caplog.records if r.name == "asyncio"]
        assert len(records) == 1
        text = records[0].getMessage()
        assert text.startswith("Exception in callback _fail()")
        assert "handle: <Handle _fail()" in text
        assert records[0].exc_info[0] is ValueError

    def test_failing_handler_falls_back_to_the_default(self, caplog):
        caplog.set_level(logging.ERROR, logger="asyncio")

        def bad_handler(loop, ctx):
            raise RuntimeError("handler broke")

        self.loop.set_exception_handler(bad_handler)
        self.loop.call_exception_handler({"message": "original"})
        text = "\n".join(r.getMessage() for r in caplog.records)
        assert "Unhandled error in exception handler" in text

    def test_call_exception_handler_with_custom_keys(self, caplog):
        caplog.set_level(logging.ERROR, logger="asyncio")
        self.loop.call_exception_handler({"message": "custom", "zeta": 1, "alpha": "a"})
        text = caplog.records[-1].getMessage()
        assert text == "custom\nalpha: 'a'\nzeta: 1"

    def test_never_retrieved_future_exception_is_reported(self):
        contexts = []
        self.loop.set_exception_handler(lambda loop, ctx: contexts.append(ctx))
        fut = self.loop.create_future()
        fut.set_exception(ValueError("lost"))
        del fut
        gc.collect()
        assert any("exception was never retrieved" in c["message"] for c in contexts)

    def test_debug_mode_logs_slow_callbacks(self, caplog):
        caplog.set_level(logging.WARNING, logger="asyncio")
        self.loop.set_debug(True)
        assert self.loop.get_debug()
        self.loop.slow_callback_duration = 0.01

        def slow():
            import time
            time.sleep(0.03)

        self.loop.call_soon(slow)
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        text = "\n".join(r.getMessage() for r in caplog.records)
        assert "Executing <Handle" in text and "slow()" in text and "took" in text

    def test_debug_mode_records_where_handles_were_created(self):
        self.loop.set_debug(True)
        handle = self.loop.call_soon(print)
        assert handle._source_traceback
        assert handle._source_traceback[-1][2] == sys._getframe().f_code.co_name
        assert "created at" in repr(handle)
        handle.cancel()

    def test_debug_mode_tracks_coroutine_origins(self):
        self.loop.set_debug(True)

        async def depth():
            return sys.get_coroutine_origin_tracking_depth()

        assert self.loop.run_until_complete(depth()) > 0
        assert sys.get_coroutine_origin_tracking_depth() == 0

    def test_debug_mode_rejects_calls_from_other_threads(self):
        import threading
        self.loop.set_debug(True)
        errors = []

        def other_thread():
            try:
                self.loop.call_soon(print)
            except RuntimeError as exc:
                errors.append(exc)
            self.loop.call_soon_threadsafe(self.loop.stop)

        self.loop.call_soon(lambda: threading.Thread(target=other_thread).start())
        self.loop.run_forever()
        assert len(errors) == 1


class TestWeftErrors(WeftLoop, ErrorCases):
    pass


class TestAsyncioErrors(AsyncioLoop, ErrorCases):
    pass
