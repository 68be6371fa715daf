"""weft.Future: C futures awaited from asyncio, and asyncio awaitables handed
to C as weft futures, with cancellation crossing both ways — with the
asyncio loop on the weft loop's thread (the weft loop stepped from it), and
on another thread (the usual bridging)."""
import asyncio
import contextlib
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
import weft  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.runtime import MS, Runtime, wait_outcome  # noqa: E402


@pytest.fixture
def rt():
    with Runtime(threads=2) as runtime:
        yield runtime


@contextlib.asynccontextmanager
async def stepping(rt):
    """Steps rt's weft loop from the running asyncio loop (same thread)."""
    async def step():
        while True:
            capi.weft_loop_run(rt.loop, capi.WEFT_RUN_NOWAIT)
            await asyncio.sleep(0.001)

    task = asyncio.create_task(step())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


# --- weft -> asyncio, same thread -------------------------------------------

def test_a_coroutine_awaits_a_weft_timer_and_pool_work(rt):
    async def main():
        async with stepping(rt):
            timer = weft.Future(capi.weft_loop_call_later(rt.loop, 5 * MS, None), rt.loop)
            assert await timer is None
            work = weft.Future(capi.weft_executor_submit(rt.pool, rt.loop, lambda: "from the pool"), rt.loop)
            assert not work.done() or work.result() == "from the pool"
            assert await work == "from the pool"
            assert work.done() and work.result() == "from the pool" and not work.cancelled()
            both = await asyncio.gather(timer, work)  # awaiting twice: the same outcome
            assert both == [None, "from the pool"]
            timer.close()
            work.close()
    run(main())


def test_a_failure_raises_its_weft_error_subclass(rt):
    async def main():
        async with stepping(rt):
            future = weft.Future.create(rt.loop)
            capi.weft_future_reject(future.handle, capi.WEFT_ERR_TIMED_OUT, "C gave up")
            with pytest.raises(weft.TimedOutError) as failure:
                await future
            assert isinstance(failure.value, TimeoutError) and failure.value.message == "C gave up"
            assert isinstance(future.exception(), weft.TimedOutError)
    run(main())


def test_a_weft_cancellation_cancels_the_awaiting_coroutine(rt):
    async def main():
        async with stepping(rt):
            future = weft.Future.create(rt.loop)

            async def waiter():
                return await future

            task = asyncio.create_task(waiter())
            await asyncio.sleep(0.01)
            assert future.cancel() is True and future.cancel() is False
            with pytest.raises(asyncio.CancelledError):
                await task
            assert future.cancelled()
            with pytest.raises(asyncio.CancelledError):
                future.result()
    run(main())


def test_cancelling_the_asyncio_side_cancels_the_weft_future(rt):
    async def main():
        async with stepping(rt):
            timer = weft.Future(capi.weft_loop_call_later(rt.loop, 60_000 * MS, None), rt.loop)
            task = asyncio.create_task(asyncio.wait_for(timer, 0.02))
            with pytest.raises(asyncio.TimeoutError):
                await task
            await asyncio.sleep(0.005)
            assert timer.cancelled()  # the C timer was cancelled, not left armed
    run(main())


# --- asyncio -> weft, same thread -------------------------------------------

def test_a_coroutine_handed_to_c_as_a_weft_future(rt):
    async def main():
        async with stepping(rt):
            async def compute(x):
                await asyncio.sleep(0.005)
                return x * 2

            future = weft.Future.from_awaitable(compute(21), rt.loop)
            seen = []
            capi.weft_future_then(future.handle, rt.loop, lambda *o: seen.append(o))  # C's view
            while not seen:
                await asyncio.sleep(0.001)
            assert seen == [(capi.WEFT_OK, 42, None)]

            async def broken():
                raise LookupError("no such key")

            failed = weft.Future.from_awaitable(broken(), rt.loop)
            with pytest.raises(weft.Error) as failure:
                await failed
            assert failure.value.status == capi.WEFT_ERR_EXCEPTION
            assert failure.value.message == "LookupError: no such key"

            async def refused():
                raise errors.from_status(capi.WEFT_ERR_CONNECTION_REFUSED, "nobody home")

            with pytest.raises(weft.ConnectionRefusedError):
                await weft.Future.from_awaitable(refused(), rt.loop)
    run(main())


def test_cancellation_crosses_from_c_to_the_coroutine_and_back(rt):
    async def main():
        async with stepping(rt):
            cancelled = asyncio.Event()

            async def slow():
                try:
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    cancelled.set()
                    raise

            future = weft.Future.from_awaitable(slow(), rt.loop)
            await asyncio.sleep(0.01)
            capi.weft_future_cancel(future.handle)  # C cancels: the coroutine is cancelled
            await asyncio.wait_for(cancelled.wait(), 5)

            task = asyncio.ensure_future(asyncio.sleep(60))
            other = weft.Future.from_awaitable(task, rt.loop)
            task.cancel()  # Python cancels: the C future is cancelled
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(100):
                if other.done():
                    break
                await asyncio.sleep(0.001)
            assert capi.weft_future_result(other.handle)[0] == capi.WEFT_ERR_CANCELLED
    run(main())


# --- another thread -----------------------------------------------------------

@pytest.fixture
def asyncio_thread():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="asyncio-loop")
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_an_asyncio_loop_in_another_thread_awaits_a_weft_future(rt, asyncio_thread):
    future = weft.Future.create(rt.loop)
    got = []

    async def consumer():
        got.append(await future)  # registered through weft_loop_call_soon_threadsafe

    done = asyncio.run_coroutine_threadsafe(consumer(), asyncio_thread)
    rt.run_until(lambda: capi.weft_runtime_stats(rt.runtime).threadsafe_posts >= 1)
    capi.weft_future_resolve(future.handle, "across threads")
    rt.run_until(done.done)
    done.result()
    assert got == ["across threads"]

    pending = weft.Future.create(rt.loop)

    async def cancelled_consumer():
        await asyncio.sleep(0)
        await asyncio.wait_for(pending, 0.01)

    failing = asyncio.run_coroutine_threadsafe(cancelled_consumer(), asyncio_thread)
    rt.run_until(lambda: pending.done())
    assert pending.cancelled()  # wait_for's cancellation reached C
    with pytest.raises(asyncio.TimeoutError):
        failing.result(5)


def test_a_coroutine_on_another_thread_handed_to_c(rt, asyncio_thread):
    async def compute():
        await asyncio.sleep(0.005)
        return threading.current_thread().name

    future = weft.Future.from_awaitable(compute(), rt.loop, asyncio_loop=asyncio_thread)
    assert wait_outcome(rt, future.handle) == (capi.WEFT_OK, "asyncio-loop", None)

    started = threading.Event()
    cancelled = threading.Event()

    async def slow():
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    future = weft.Future.from_awaitable(slow(), rt.loop, asyncio_loop=asyncio_thread)
    assert started.wait(5)
    future.cancel()
    rt.run_until(cancelled.is_set)
    assert future.cancelled()


def test_a_closed_future_and_bad_construction(rt):
    future = weft.Future.create(rt.loop)
    assert "pending" in repr(future)
    future.close()
    future.close()
    assert repr(future) == "<weft.Future closed>"
    with pytest.raises(weft.StaleHandleError):
        future.handle
    with pytest.raises(weft.InvalidArgumentError):
        weft.Future(None, rt.loop)
    raw = capi.weft_future_create(rt.loop)
    again = weft.Future.from_address(capi.address_of(raw), rt.loop)  # its own reference
    capi.weft_future_release(raw)
    assert not again.done()
    again.set_result(3)
    assert again.result() == 3
    again.close()


# --- on weft.Loop: the asyncio loop is the weft loop ---------------------------

def test_on_weft_loop_coroutines_await_c_futures_and_hand_theirs_to_c():
    async def main():
        loop = weft.futures.loop_handle_of()  # the running weft.Loop's root loop handle
        runtime = weft.futures.runtime_of()
        timer = weft.Future(capi.weft_loop_call_later(loop, 2 * MS, None))
        assert await timer is None
        work = weft.Future(capi.weft_executor_submit(capi.weft_runtime_pool(runtime), loop,
                                                     lambda: threading.current_thread().name))
        assert await work != threading.current_thread().name  # ran on a pool worker

        async def twice(x):
            await asyncio.sleep(0.001)
            return 2 * x

        handed = weft.Future.from_awaitable(twice(8))
        seen = []
        capi.weft_future_then(handed.handle, loop, lambda *o: seen.append(o))
        assert await handed == 16
        await asyncio.sleep(0)
        assert seen == [(capi.WEFT_OK, 16, None)]

        slow = weft.Future(capi.weft_loop_call_later(loop, 60_000 * MS, None))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow, 0.01)
        assert slow.cancelled()  # the C timer was cancelled with the awaiting side

        stuck = weft.Future.from_awaitable(asyncio.sleep(60))
        await asyncio.sleep(0.001)
        stuck.cancel()  # C's side cancels the coroutine
        with pytest.raises(asyncio.CancelledError):
            await stuck
        return "done"

    assert weft.run(main()) == "done"


def test_runtime_of_refuses_a_loop_that_is_not_weft():
    async def main():
        with pytest.raises(weft.InvalidArgumentError):
            weft.futures.runtime_of()
        with pytest.raises(weft.InvalidArgumentError):
            weft.Future.create()
    asyncio.run(main())
