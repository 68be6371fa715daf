"""weft.capi executors: Python work on weft's pool (the GIL taken on the
worker), on a strand (one at a time, in order), C work functions given by
address (run without the GIL), failures, cancellation and bad arguments."""
import ctypes
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.runtime import Runtime, wait_outcome  # noqa: E402


@pytest.fixture
def rt():
    with Runtime(threads=2) as runtime:
        yield runtime


def test_python_work_runs_on_a_pool_thread_and_done_on_the_loop_thread(rt):
    loop_thread = threading.get_ident()
    seen = {}

    def work():
        seen["work"] = threading.get_ident()
        return {"answer": 42}

    done = []
    future = capi.weft_executor_submit(rt.pool, rt.loop, work,
                                       lambda *o: done.append((threading.get_ident(),) + o))
    status, value, message = wait_outcome(rt, future)
    assert status == capi.WEFT_OK and value == {"answer": 42}
    rt.run_until(lambda: done)
    assert seen["work"] != loop_thread
    assert done == [(loop_thread, capi.WEFT_OK, {"answer": 42}, None)]
    capi.weft_future_release(future)


def test_bytes_and_str_results_are_copied(rt):
    futures = [capi.weft_executor_submit(rt.pool, rt.loop, lambda v=v: v)
               for v in (b"x" * 100000, "t" * 1000, bytearray(b"ba"), 7, None)]
    for f, want in zip(futures, (b"x" * 100000, "t" * 1000, b"ba", 7, None)):
        assert wait_outcome(rt, f) == (capi.WEFT_OK, want, None)
        capi.weft_future_release(f)


def test_a_strand_runs_python_work_one_at_a_time_in_order(rt):
    strand = capi.weft_strand_create(rt.pool)
    order, running, overlap = [], [0], []
    lock = threading.Lock()

    def work(i):
        with lock:
            running[0] += 1
            overlap.append(running[0])
        time.sleep(0.001)
        order.append(i)
        with lock:
            running[0] -= 1
        return i

    futures = [capi.weft_executor_submit(strand, rt.loop, lambda i=i: work(i)) for i in range(20)]
    for i, f in enumerate(futures):
        assert wait_outcome(rt, f) == (capi.WEFT_OK, i, None)
        capi.weft_future_release(f)
    assert order == list(range(20)) and max(overlap) == 1
    capi.weft_executor_destroy(strand)


def test_a_created_pool_with_options(rt):
    options = capi.weft_pool_options_init()
    assert options.struct_size > 0 and options.threads == 0
    options.threads = 2
    options.name = "py-pool"
    pool = capi.weft_pool_create(rt.runtime, options)
    names = []
    f = capi.weft_executor_submit(pool, rt.loop, lambda: names.append(threading.current_thread().name) or 1)
    assert wait_outcome(rt, f)[0] == capi.WEFT_OK
    capi.weft_future_release(f)
    capi.weft_executor_destroy(pool)
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_executor_destroy(rt.pool)  # the default pool is the runtime's


def test_python_work_threads_run_while_the_loop_thread_waits(rt):
    # Work on two workers at once: each needs the GIL in turn, and the loop
    # thread releases it while it waits, so all of them finish.
    barrier = threading.Barrier(2, timeout=10)
    futures = [capi.weft_executor_submit(rt.pool, rt.loop, lambda: barrier.wait() + 100) for _ in range(2)]
    assert sorted(wait_outcome(rt, f)[1] for f in futures) == [100, 101]
    for f in futures:
        capi.weft_future_release(f)


def test_exceptions_in_work_reject_the_future(rt):
    def broken():
        raise KeyError("missing")

    def timed_out():
        raise errors.from_status(capi.WEFT_ERR_TIMED_OUT, "work gave up")

    got = []
    f1 = capi.weft_executor_submit(rt.pool, rt.loop, broken, lambda *o: got.append(o))
    f2 = capi.weft_executor_submit(rt.pool, rt.loop, timed_out)
    assert wait_outcome(rt, f1)[0] == capi.WEFT_ERR_EXCEPTION
    assert wait_outcome(rt, f2)[0] == capi.WEFT_ERR_TIMED_OUT
    rt.run_until(lambda: got)
    assert got == [(capi.WEFT_ERR_EXCEPTION, None, "KeyError: 'missing'")]
    capi.weft_future_release(f1)
    capi.weft_future_release(f2)


WORK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def test_a_c_work_function_by_address(rt):
    # The pool calls the function at this address with `user` as given (a
    # ctypes callback here, which takes the GIL itself; plugin_test runs a
    # compiled C work function, which never needs it).
    calls = []

    @WORK_FN
    def c_work(user, result):
        calls.append(user)
        return 0

    address = ctypes.cast(c_work, ctypes.c_void_p).value
    f = capi.weft_executor_submit(rt.pool, rt.loop, address, None, 1234)
    assert wait_outcome(rt, f) == (capi.WEFT_OK, None, None)
    assert calls == [1234]
    capi.weft_future_release(f)

    @WORK_FN
    def c_failing(user, result):
        return capi.WEFT_ERR_IO_ERROR

    g = capi.weft_executor_submit(rt.pool, rt.loop, ctypes.cast(c_failing, ctypes.c_void_p).value)
    assert wait_outcome(rt, g)[0] == capi.WEFT_ERR_IO_ERROR
    capi.weft_future_release(g)


def test_bad_work_arguments_raise_with_a_message(rt):
    with pytest.raises(errors.InvalidArgumentError) as failure:
        capi.weft_executor_submit(rt.pool, rt.loop, "not callable")
    assert "work:" in failure.value.message
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_executor_submit(rt.pool, rt.loop, lambda: 1, None, 5)  # user is for C work
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_executor_submit(rt.pool, rt.loop, lambda: 1, "not callable")
    work = lambda: 1  # noqa: E731
    before = sys.getrefcount(work)
    strand = capi.weft_strand_create(rt.pool)
    capi.weft_executor_destroy(strand)
    with pytest.raises(errors.StaleHandleError):
        capi.weft_executor_submit(strand, rt.loop, work)
    assert sys.getrefcount(work) == before  # refused: nothing kept


def test_work_cancelled_before_it_starts_never_runs(rt):
    strand = capi.weft_strand_create(rt.pool)
    gate = threading.Event()
    ran = []
    first = capi.weft_executor_submit(strand, rt.loop, lambda: gate.wait(10))
    second = capi.weft_executor_submit(strand, rt.loop, lambda: ran.append(1))
    capi.weft_future_cancel(second)
    gate.set()
    assert wait_outcome(rt, first)[1] is True
    assert wait_outcome(rt, second)[0] == capi.WEFT_ERR_CANCELLED
    capi.weft_executor_destroy(strand)
    assert ran == []
    capi.weft_future_release(first)
    capi.weft_future_release(second)


def test_work_results_are_not_leaked(rt):
    payload = b"y" * 1000
    before = sys.getrefcount(payload)
    futures = [capi.weft_executor_submit(rt.pool, rt.loop, lambda: payload) for _ in range(10)]
    for f in futures:
        assert wait_outcome(rt, f)[1] == payload
        capi.weft_future_release(f)
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_NOWAIT)
    assert sys.getrefcount(payload) == before


def test_work_on_a_pool_thread_calls_back_into_weft(rt):
    # From a worker: a loop-thread function raises WrongThreadError (the
    # misuse is reported on the worker), which rejects the work with that
    # status; call_soon_threadsafe posts a Python callback to the loop thread.
    loop_thread = threading.get_ident()
    posted = []

    def wrong():
        capi.weft_loop_call_soon(rt.loop, lambda s, m: None)

    def post():
        capi.weft_loop_call_soon_threadsafe(rt.loop, lambda s, m: posted.append(threading.get_ident()))
        return threading.get_ident()

    got = []
    f1 = capi.weft_executor_submit(rt.pool, rt.loop, wrong, lambda *o: got.append(o))
    f2 = capi.weft_executor_submit(rt.pool, rt.loop, post)
    assert wait_outcome(rt, f1)[0] == capi.WEFT_ERR_WRONG_THREAD
    worker = wait_outcome(rt, f2)[1]
    rt.run_until(lambda: posted and got)
    assert worker != loop_thread and posted == [loop_thread]
    status, value, message = got[0]
    assert status == capi.WEFT_ERR_WRONG_THREAD
    assert message.startswith("WrongThreadError: weft_loop_call_soon"), message
    capi.weft_future_release(f1)
    capi.weft_future_release(f2)
