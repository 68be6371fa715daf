"""Smoke test of the SWIG-generated Python module over weft's C API.

It proves the C ABI is SWIG-friendly: a runtime from Python, a Python
callback scheduled with call_later on the manual clock, a future resolved
from Python and its value read back. (The full Python binding, with asyncio
integration, is a later piece of work.)
"""
import gc
import os
import sys

# The package weft lives one directory up (bindings/python/weft).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
from weft import capi as weft  # noqa: E402

MS = 1_000_000


def make_runtime():
    options = weft.weft_runtime_options()
    options.clock = weft.WEFT_CLOCK_MANUAL
    options.threads = 1
    runtime = weft.weft_runtime_create(options)
    return runtime, weft.weft_runtime_loop(runtime)


def test_version_matches_the_headers_it_was_built_from():
    assert weft.weft_version() == weft.WEFT_VERSION_HEX
    assert weft.weft_version_string() == "%d.%d.%d" % (
        weft.WEFT_VERSION_MAJOR, weft.WEFT_VERSION_MINOR, weft.WEFT_VERSION_PATCH)


def test_call_later_runs_a_python_callback_on_the_manual_clock():
    runtime, loop = make_runtime()
    fired = []
    timer = weft.weft_loop_call_later(
        loop, 50 * MS, lambda status, message: fired.append((status, message, weft.weft_loop_now(loop))))
    weft.weft_loop_run(loop, weft.WEFT_RUN_NOWAIT)
    assert fired == []  # the manual clock has not moved
    weft.weft_loop_advance_clock(loop, 49 * MS)
    weft.weft_loop_run(loop, weft.WEFT_RUN_NOWAIT)
    assert fired == []
    weft.weft_loop_advance_clock(loop, 1 * MS)
    weft.weft_loop_run(loop, weft.WEFT_RUN_DEFAULT)
    assert fired == [(weft.WEFT_OK, None, 50 * MS)]
    # The timer's future resolved (with None) just before the callback ran.
    assert weft.weft_future_result(timer) == (weft.WEFT_OK, None, None)
    weft.weft_future_release(timer)
    weft.weft_runtime_destroy(runtime)


def test_a_timer_is_cancelled_through_its_future():
    runtime, loop = make_runtime()
    got = []
    timer = weft.weft_loop_call_later(loop, 10 * MS, lambda *outcome: got.append(outcome))
    weft.weft_future_cancel(timer)  # the callback runs now, cancelled, with a message
    assert len(got) == 1
    status, message = got[0]
    assert status == weft.WEFT_ERR_CANCELLED and isinstance(message, str) and message
    status, value, message = weft.weft_future_result(timer)
    assert status == weft.WEFT_ERR_CANCELLED and value is None and message
    weft.weft_loop_advance_clock(loop, 20 * MS)
    weft.weft_loop_run(loop, weft.WEFT_RUN_DEFAULT)
    assert len(got) == 1  # exactly once
    weft.weft_future_release(timer)
    weft.weft_runtime_destroy(runtime)


def test_a_timer_without_a_callback_completes_its_future():
    runtime, loop = make_runtime()
    timer = weft.weft_loop_call_later(loop, 5 * MS, None)
    got = []
    weft.weft_future_then(timer, loop, lambda *outcome: got.append(outcome))
    weft.weft_loop_advance_clock(loop, 5 * MS)
    weft.weft_loop_run(loop, weft.WEFT_RUN_DEFAULT)
    assert got == [(weft.WEFT_OK, None, None)]
    weft.weft_future_release(timer)
    with pytest.raises(weft.Error) as failure:  # call_soon needs a callback
        weft.weft_loop_call_soon(loop, None)
    assert failure.value.args[0] == weft.WEFT_ERR_INVALID_ARGUMENT
    weft.weft_runtime_destroy(runtime)


def test_backend_timeout_is_in_nanoseconds():
    options = weft.weft_runtime_options()
    options.threads = 1
    runtime = weft.weft_runtime_create(options)  # the real clock: timers bound the timeout
    loop = weft.weft_runtime_loop(runtime)
    assert weft.weft_loop_backend_timeout(loop) == -1  # nothing pending
    timer = weft.weft_loop_call_later(loop, 500 * MS, None)
    timeout = weft.weft_loop_backend_timeout(loop)
    assert 0 < timeout <= 500 * MS
    weft.weft_future_cancel(timer)
    weft.weft_future_release(timer)
    weft.weft_runtime_destroy(runtime)


def test_a_future_resolved_from_python_delivers_its_value():
    runtime, loop = make_runtime()
    future = weft.weft_future_create(loop)
    got = []
    weft.weft_future_then(future, loop, lambda status, value, message: got.append((status, value, message)))
    weft.weft_future_resolve(future, "hello from Python")
    assert got == []  # callbacks run on the loop, never inside resolve
    weft.weft_loop_run(loop, weft.WEFT_RUN_DEFAULT)
    assert got == [(weft.WEFT_OK, "hello from Python", None)]
    assert weft.weft_future_result(future) == (weft.WEFT_OK, "hello from Python", None)
    weft.weft_future_release(future)
    weft.weft_runtime_destroy(runtime)


@pytest.mark.parametrize("value", [None, True, 42, -7, 2.5, b"\x00bytes", "text"])
def test_values_round_trip(value):
    runtime, loop = make_runtime()
    future = weft.weft_future_create(loop)
    weft.weft_future_resolve(future, value)
    status, got, message = weft.weft_future_result(future)
    assert status == weft.WEFT_OK and message is None
    assert got == value and type(got) is type(value)
    weft.weft_future_release(future)
    weft.weft_runtime_destroy(runtime)


def test_any_python_object_travels_by_reference_and_is_released():
    runtime, loop = make_runtime()
    payload = {"frame": 12}
    before = sys.getrefcount(payload)
    future = weft.weft_future_create(loop)
    weft.weft_future_resolve(future, payload)
    same = weft.weft_future_result(future)[1] is payload  # (no temporaries kept by assert)
    assert same
    weft.weft_future_release(future)
    weft.weft_loop_run(loop, weft.WEFT_RUN_NOWAIT)  # its continuation held it until now
    gc.collect()
    assert sys.getrefcount(payload) == before  # weft dropped its reference
    weft.weft_runtime_destroy(runtime)


def test_rejections_and_cancellations_reach_python():
    runtime, loop = make_runtime()
    rejected, cancelled = weft.weft_future_create(loop), weft.weft_future_create(loop)
    got = []
    weft.weft_future_then(rejected, loop, lambda *outcome: got.append(outcome))
    weft.weft_future_then(cancelled, loop, lambda *outcome: got.append(outcome))
    weft.weft_future_reject(rejected, weft.WEFT_ERR_TIMED_OUT, "too slow")
    weft.weft_future_cancel(cancelled)
    weft.weft_loop_run(loop, weft.WEFT_RUN_DEFAULT)
    assert got == [(weft.WEFT_ERR_TIMED_OUT, None, "too slow"),
                   (weft.WEFT_ERR_CANCELLED, None, "operation cancelled")]
    weft.weft_future_release(rejected)
    weft.weft_future_release(cancelled)
    weft.weft_runtime_destroy(runtime)


def test_failures_raise_weft_error():
    runtime, loop = make_runtime()
    future = weft.weft_future_create(loop)
    weft.weft_future_resolve(future, 1)
    with pytest.raises(weft.Error) as failure:
        weft.weft_future_resolve(future, 2)
    assert failure.value.args[0] == weft.WEFT_ERR_ALREADY_COMPLETED
    assert failure.value.args[1] == "WEFT_ERR_ALREADY_COMPLETED"
    weft.weft_future_release(future)
    weft.weft_runtime_destroy(runtime)
    with pytest.raises(weft.Error) as failure:  # a handle used after destroy
        weft.weft_loop_run(loop, weft.WEFT_RUN_NOWAIT)
    assert failure.value.args[0] == weft.WEFT_ERR_STALE_HANDLE


def test_a_callback_is_released_whether_it_runs_or_is_cancelled_or_refused():
    runtime, loop = make_runtime()

    def callback(status, message):
        pass

    before = sys.getrefcount(callback)
    timer = weft.weft_loop_call_later(loop, 10 * MS, callback)
    weft.weft_loop_call_soon(loop, callback)
    assert sys.getrefcount(callback) == before + 2
    weft.weft_future_cancel(timer)  # called now, with WEFT_ERR_CANCELLED
    weft.weft_future_release(timer)
    weft.weft_loop_run(loop, weft.WEFT_RUN_DEFAULT)
    assert sys.getrefcount(callback) == before
    weft.weft_runtime_destroy(runtime)
    with pytest.raises(weft.Error):
        weft.weft_loop_call_soon(loop, callback)  # refused: nothing kept
    assert sys.getrefcount(callback) == before


def test_an_exception_in_a_callback_does_not_stop_the_loop(monkeypatch):
    # It cannot cross into C: it goes to sys.unraisablehook, and the loop
    # goes on with the next callback.
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: unraisable.append(info.exc_value))
    runtime, loop = make_runtime()
    ran = []

    def boom(status, message):
        raise RuntimeError("boom")

    weft.weft_loop_call_soon(loop, boom)
    weft.weft_loop_call_soon(loop, lambda status, message: ran.append((status, message)))
    weft.weft_loop_run(loop, weft.WEFT_RUN_DEFAULT)
    assert ran == [(weft.WEFT_OK, None)]
    assert [str(e) for e in unraisable] == ["boom"]
    weft.weft_runtime_destroy(runtime)
