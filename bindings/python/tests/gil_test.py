"""Where the GIL is and is not held: a C work function given to weft's pool
by address runs without it (Python code on the main thread runs while the C
work waits for it), and weft's loop releases it while it waits in the
kernel (a Python thread makes progress while the loop sleeps), and takes it
back from Python threads that hold it, briefly or for long."""
import asyncio
import ctypes
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
import weft  # noqa: E402
from weft import capi  # noqa: E402
from helpers.runtime import Runtime, wait_outcome  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def rt():
    with Runtime(threads=2) as runtime:
        yield runtime


def test_c_work_on_the_pool_runs_without_the_gil(rt):
    probe = ctypes.CDLL(os.path.join(HERE, "libgil_probe.so"))
    flags = (ctypes.c_int * 2)(0, 0)
    work = ctypes.cast(probe.gil_probe_wait_for_python, ctypes.c_void_p).value
    future = capi.weft_executor_submit(rt.pool, rt.loop, work, None, ctypes.addressof(flags))
    # Plain Python on this thread, holding the GIL between bytecodes: it sees
    # the worker start and answers it while the C work is still running.
    deadline = time.monotonic() + 5
    while flags[0] == 0 and time.monotonic() < deadline:
        pass
    assert flags[0] == 1, "the C work never started"
    flags[1] = 1
    assert wait_outcome(rt, future) == (capi.WEFT_OK, None, None)
    capi.weft_future_release(future)


def test_the_loop_releases_the_gil_while_it_waits_in_the_kernel():
    counter = [0]
    stop = threading.Event()

    def count():  # pure Python: runs only while it holds the GIL
        while not stop.is_set():
            counter[0] += 1

    async def main():
        await asyncio.sleep(0.05)  # let the thread start
        before = counter[0]
        await asyncio.sleep(0.3)   # the loop waits in the kernel
        return counter[0] - before

    thread = threading.Thread(target=count)
    thread.start()
    try:
        progressed = weft.run(main())
    finally:
        stop.set()
        thread.join(5)
    assert progressed > 0


@pytest.mark.parametrize("run", [weft.run, asyncio.run], ids=["weft", "asyncio"])
def test_the_loop_takes_the_gil_back_from_threads_that_hold_it(run):
    # Posts from a thread that blocks right after each one (it lets go of
    # the GIL microseconds after the loop sees the post), while another
    # thread runs pure Python and holds the GIL for whole switch intervals
    # (the loop must ask for it). Every post runs once, in order, and the
    # run ends.
    rounds = 100
    stop = threading.Event()
    spins = [0]

    def busy():
        while not stop.is_set():
            spins[0] += 1

    async def main():
        loop = asyncio.get_running_loop()
        replies = []
        got = threading.Semaphore(0)

        def on_ping(i):
            replies.append(i)
            got.release()

        def pinger():
            for i in range(rounds):
                loop.call_soon_threadsafe(on_ping, i)
                if not got.acquire(timeout=10):
                    return
        thread = threading.Thread(target=pinger)
        thread.start()
        await loop.run_in_executor(None, thread.join, 30)
        return replies

    busy_thread = threading.Thread(target=busy)
    busy_thread.start()
    try:
        started = time.monotonic()
        replies = run(main())
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        busy_thread.join(5)
    assert replies == list(range(rounds))
    assert spins[0] > 0
    assert elapsed < 30
