"""weft.Loop's callbacks and timers (call_soon, call_later, call_at, handles,
contexts, ordering, stop/run_forever), each test run against weft's loop and
asyncio's default loop (see loop_twins.py)."""
import asyncio
import contextvars
import time

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

request_id = contextvars.ContextVar("request_id", default=None)


class CallbackCases(LoopCase):
    def test_call_soon_runs_in_fifo_order_with_args(self):
        out = []
        for i in range(100):
            self.loop.call_soon(out.append, i)
        self.loop.call_soon(lambda a, b, c, d: out.append((a, b, c, d)), 1, 2, 3, 4)
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == list(range(100)) + [(1, 2, 3, 4)]

    def test_callbacks_scheduled_by_callbacks_run_next_iteration(self):
        out = []

        def first():
            out.append("first")
            self.loop.call_soon(out.append, "third")

        self.loop.call_soon(first)
        self.loop.call_soon(out.append, "second")
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        # stop() finishes the iteration it was called in: "third" waits.
        assert out == ["first", "second"]
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == ["first", "second", "third"]

    def test_handle_cancel(self):
        out = []
        handle = self.loop.call_soon(out.append, 1)
        assert not handle.cancelled()
        handle.cancel()
        handle.cancel()
        assert handle.cancelled()
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == []

    def test_a_callback_may_cancel_a_later_one(self):
        out = []
        later = []
        self.loop.call_soon(lambda: later[0].cancel())
        later.append(self.loop.call_soon(out.append, "cancelled"))
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == []

    def test_callback_cancelling_its_own_handle_keeps_its_arguments(self):
        import functools
        import gc
        out = []
        handles = []

        def callback(payload):
            handles[0].cancel()  # drops what the handle holds
            gc.collect()
            out.append(payload["value"])

        handles.append(self.loop.call_soon(functools.partial(callback), {"value": 42}))
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == [42]

    def test_gc_with_queued_handles_and_readers(self):
        import gc
        import socket
        a, b = socket.socketpair()
        try:
            got = []
            self.loop.add_reader(a, lambda: (got.append(a.recv(10)), gc.collect(),
                                             self.loop.stop()))
            for i in range(50):
                self.loop.call_soon(lambda i=i: got.append(i))
            b.send(b"x")
            self.loop.call_later(10, self.loop.stop)  # the bound
            gc.collect()
            self.loop.run_forever()
            gc.collect()
            assert sorted(x for x in got if isinstance(x, int)) == list(range(50)), got
            assert b"x" in got, got
        finally:
            self.loop.remove_reader(a)
            a.close()
            b.close()

    def test_call_soon_rejects_bad_input(self):
        with pytest.raises(TypeError):
            self.loop.call_soon(print, bogus=1)
        if self.is_weft:
            # asyncio checks these only in debug mode or when the callback runs.
            with pytest.raises(TypeError):
                self.loop.call_soon(print, context=1)
            with pytest.raises(TypeError):
                self.loop.call_soon(42)

    def test_context_is_copied_at_call_time_and_honoured(self):
        seen = []
        token = request_id.set("a")
        self.loop.call_soon(lambda: seen.append(request_id.get()))
        request_id.reset(token)
        ctx = contextvars.copy_context()
        ctx.run(request_id.set, "explicit")
        self.loop.call_soon(lambda: seen.append(request_id.get()), context=ctx)
        self.loop.call_later(0, lambda: seen.append(request_id.get()), context=ctx)
        self.loop.call_soon(lambda: request_id.set("leak"))
        self.loop.call_soon(lambda: seen.append(request_id.get()))
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert seen == ["a", "explicit", None, "explicit"]

    def test_timers_fire_in_order_and_never_early(self):
        fired = []
        start = self.loop.time()
        for delay in (0.03, 0.01, 0.02, 0.01, 0.0):
            self.loop.call_later(delay, lambda d=delay: fired.append((d, self.loop.time())))
        self.loop.call_later(0.05, self.loop.stop)
        self.loop.run_forever()
        assert [d for d, _ in fired] == [0.0, 0.01, 0.01, 0.02, 0.03]
        for delay, at in fired:
            assert at >= start + delay

    def test_call_at_and_when(self):
        fired = []
        when = self.loop.time() + 0.01
        handle = self.loop.call_at(when, fired.append, "at")
        assert handle.when() == when
        self.loop.call_at(when + 0.01, self.loop.stop)
        self.loop.run_forever()
        assert fired == ["at"]
        assert self.loop.time() >= when

    def test_cancelled_timer_does_not_fire(self):
        fired = []
        handles = [self.loop.call_later(0.001 * (i % 5), fired.append, i) for i in range(500)]
        for h in handles[::2]:
            h.cancel()
        self.loop.call_later(0.02, self.loop.stop)
        self.loop.run_forever()
        assert sorted(fired) == list(range(1, 500, 2))

    def test_many_cancelled_timers_are_dropped(self):
        # Cancelled timers far in the future must not keep the loop's memory.
        for _ in range(5000):
            self.loop.call_later(3600, print).cancel()
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()

    def test_time_is_monotonic_seconds(self):
        a = self.loop.time()
        b = time.monotonic()
        assert abs(a - b) < 1.0
        assert self.loop.time() >= a

    def test_stop_before_run_forever_runs_one_iteration(self):
        out = []
        self.loop.call_soon(out.append, 1)
        self.loop.stop()
        self.loop.run_forever()
        assert out == [1]
        assert not self.loop.is_running()

    def test_is_running_and_closed(self):
        states = []
        self.loop.call_soon(lambda: states.append(self.loop.is_running()))
        self.loop.call_soon(self.loop.stop)
        assert not self.loop.is_running()
        self.loop.run_forever()
        assert states == [True]
        self.loop.close()
        assert self.loop.is_closed()
        self.loop.close()
        with pytest.raises(RuntimeError):
            self.loop.call_soon(print)
        with pytest.raises(RuntimeError):
            self.loop.call_later(1, print)
        with pytest.raises(RuntimeError):
            self.loop.run_forever()

    def test_close_while_running_is_refused(self):
        errors = []

        def try_close():
            try:
                self.loop.close()
            except RuntimeError as exc:
                errors.append(exc)
            self.loop.stop()

        self.loop.call_soon(try_close)
        self.loop.run_forever()
        assert len(errors) == 1

    def test_run_forever_is_not_reentrant(self):
        errors = []

        def nested():
            try:
                self.loop.run_forever()
            except RuntimeError as exc:
                errors.append(exc)
            self.loop.stop()

        self.loop.call_soon(nested)
        self.loop.run_forever()
        assert len(errors) == 1

    def test_keyboard_interrupt_in_callback_propagates_and_keeps_the_rest(self):
        out = []

        def interrupt():
            raise KeyboardInterrupt

        self.loop.call_soon(interrupt)
        self.loop.call_soon(out.append, "after")
        with pytest.raises(KeyboardInterrupt):
            self.loop.run_forever()
        assert not self.loop.is_running()
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == ["after"]

    def test_system_exit_in_callback_propagates(self):
        def leave():
            raise SystemExit(3)

        self.loop.call_soon(leave)
        with pytest.raises(SystemExit):
            self.loop.run_forever()

    def test_run_until_complete_result_and_exception(self):
        async def value():
            await asyncio.sleep(0.001)
            return 42

        async def fail():
            await asyncio.sleep(0)
            raise ValueError("no")

        assert self.loop.run_until_complete(value()) == 42
        with pytest.raises(ValueError):
            self.loop.run_until_complete(fail())

    def test_run_until_complete_stopped_early(self):
        fut = self.loop.create_future()
        self.loop.call_soon(self.loop.stop)
        with pytest.raises(RuntimeError, match="stopped before Future completed"):
            self.loop.run_until_complete(fut)

    def test_handles_are_asyncio_handles(self):
        handle = self.loop.call_soon(print)
        timer = self.loop.call_later(10, print)
        assert isinstance(handle, asyncio.Handle)
        assert not isinstance(handle, asyncio.TimerHandle)
        assert isinstance(timer, asyncio.TimerHandle)
        assert isinstance(timer, asyncio.Handle)
        handle.cancel()
        timer.cancel()

    def test_handle_repr(self):
        def named_callback():
            pass

        handle = self.loop.call_soon(named_callback)
        assert "named_callback" in repr(handle)
        timer = self.loop.call_later(10, named_callback)
        assert "when=" in repr(timer)
        timer.cancel()
        assert "cancelled" in repr(timer)
        handle.cancel()


class TestWeftCallbacks(WeftLoop, CallbackCases):
    def test_handles_are_weft_handles(self):
        import weft
        assert isinstance(self.loop.call_soon(print), weft.events.Handle)
        timer = self.loop.call_later(1, print)
        assert isinstance(timer, weft.events.TimerHandle)
        timer.cancel()


class TestAsyncioCallbacks(AsyncioLoop, CallbackCases):
    pass
