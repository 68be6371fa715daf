"""weft.capi: timers, futures and their combinators, and values both ways,
driven from Python with Python callbacks."""
import ctypes
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.runtime import MS, Runtime  # noqa: E402


@pytest.fixture
def rt():
    with Runtime(threads=1, manual_clock=True) as runtime:
        yield runtime


def test_call_at_and_now_on_the_manual_clock(rt):
    fired = []
    assert capi.weft_loop_now(rt.loop) == 0
    timer = capi.weft_loop_call_at(rt.loop, 30 * MS, lambda s, m: fired.append(capi.weft_loop_now(rt.loop)))
    capi.weft_loop_advance_clock(rt.loop, 30 * MS)
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_DEFAULT)
    assert fired == [30 * MS]
    capi.weft_future_release(timer)


def test_run_for_reports_what_ran_and_the_next_timer(rt):
    for _ in range(3):
        capi.weft_loop_call_soon(rt.loop, lambda s, m: None)
    timer = capi.weft_loop_call_later(rt.loop, 5 * MS, None)
    report = capi.weft_loop_run_for(rt.loop, 2 * MS)
    assert report.ran == 3 and report.ready == 0
    assert report.has_next_timer == 1 and report.next_timer_ns == 5 * MS
    assert report.struct_size == ctypes.sizeof(ctypes.c_size_t) * 3 + 8 + 4 + 4
    capi.weft_future_cancel(timer)
    capi.weft_future_release(timer)


def test_stop_claim_runtime_and_backend_fd(rt):
    assert capi.address_of(capi.weft_loop_runtime(rt.loop)) == capi.address_of(rt.runtime)
    assert capi.weft_loop_backend_fd(rt.loop) >= 0
    capi.weft_loop_claim(rt.loop)  # a no-op on the loop thread
    capi.weft_loop_call_soon(rt.loop, lambda s, m: capi.weft_loop_stop(rt.loop))
    ran = []
    capi.weft_loop_call_soon(rt.loop, lambda s, m: ran.append(1))
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_DEFAULT)  # returns after the first
    assert ran == []
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_DEFAULT)
    assert ran == [1]


def test_call_soon_threadsafe_from_python_threads(rt):
    import threading
    got = []
    threads = [threading.Thread(target=lambda i=i: [capi.weft_loop_call_soon_threadsafe(
        rt.loop, lambda s, m, i=i, k=k: got.append((i, k))) for k in range(200)]) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    rt.run_until(lambda: len(got) == 800)
    for i in range(4):  # each thread's posts in the order posted
        assert [k for j, k in got if j == i] == list(range(200))


def test_then_all_any_and_with_timeout(rt):
    a, b = capi.weft_future_create(rt.loop), capi.weft_future_create(rt.loop)
    capi.weft_future_set_name(a, "a")
    both = capi.weft_future_all(rt.loop, [a, b])
    first = capi.weft_future_any(rt.loop, [a, b])
    outcomes = []
    capi.weft_future_then(both, rt.loop, lambda *o: outcomes.append(("all",) + o))
    capi.weft_future_then(first, rt.loop, lambda *o: outcomes.append(("any",) + o))
    capi.weft_future_resolve(b, "b")
    for _ in range(3):  # b's callbacks, then any's
        capi.weft_loop_run(rt.loop, capi.WEFT_RUN_NOWAIT)
    assert outcomes == [("any", capi.WEFT_OK, 1, None)]
    capi.weft_future_resolve(a, "a")
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_DEFAULT)
    assert outcomes[1] == ("all", capi.WEFT_OK, None, None)
    empty = capi.weft_future_all(rt.loop, [])
    assert capi.weft_future_result(empty) == (capi.WEFT_OK, None, None)
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_future_any(rt.loop, [])

    slow = capi.weft_future_create(rt.loop)
    bounded = capi.weft_future_with_timeout(rt.loop, slow, 10 * MS)
    capi.weft_loop_advance_clock(rt.loop, 10 * MS)
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_DEFAULT)
    status, value, message = capi.weft_future_result(bounded)
    assert status == capi.WEFT_ERR_TIMED_OUT and message
    assert capi.weft_future_result(slow)[0] == capi.WEFT_ERR_CANCELLED
    for f in (a, b, both, first, empty, slow, bounded):
        capi.weft_future_release(f)


def test_retain_and_release_count_references(rt):
    f = capi.weft_future_create(rt.loop)
    capi.weft_future_retain(f)
    capi.weft_future_release(f)
    capi.weft_future_resolve(f, 5)  # still ours
    capi.weft_future_release(f)
    with pytest.raises(errors.StaleHandleError):
        capi.weft_future_retain(f)


def test_reject_with_an_application_status(rt):
    f = capi.weft_future_create(rt.loop)
    capi.weft_future_reject(f, capi.WEFT_STATUS_USER - 3, "custom failure")
    status, value, message = capi.weft_future_result(f)
    assert (status, value, message) == (capi.WEFT_STATUS_USER - 3, None, "custom failure")
    assert type(errors.from_status(status, message)) is errors.ApplicationError
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_future_reject(f, 1, "not a failure")
    capi.weft_future_release(f)


@pytest.mark.parametrize("value", [None, True, False, 0, -(2 ** 63), 2 ** 63 - 1, 2.5, b"", b"\x00\xff", "", "näme"])
def test_values_round_trip_through_a_future(rt, value):
    f = capi.weft_future_create(rt.loop)
    capi.weft_future_resolve(f, value)
    got = capi.weft_future_result(f)[1]
    assert got == value and type(got) is type(value)
    capi.weft_future_release(f)


def test_buffers_go_in_as_bytes_and_too_large_ints_are_refused(rt):
    f = capi.weft_future_create(rt.loop)
    capi.weft_future_resolve(f, bytearray(b"abc"))
    assert capi.weft_future_result(f)[1] == b"abc"
    capi.weft_future_release(f)
    g = capi.weft_future_create(rt.loop)
    with pytest.raises(OverflowError):
        capi.weft_future_resolve(g, 2 ** 64)
    capi.weft_future_resolve(g, memoryview(b"xyz"))
    assert capi.weft_future_result(g)[1] == b"xyz"
    capi.weft_future_release(g)


def test_value_builders_and_readers():
    assert capi.weft_value_none() is None
    assert capi.weft_value_bool(1) is True
    assert capi.weft_value_int64(-4) == -4
    assert capi.weft_value_double(0.25) == 0.25
    assert capi.weft_value_bytes(b"ab\x00c") == b"ab\x00c"
    assert capi.weft_value_string("hé") == "hé"
    assert capi.weft_value_get_bool(True) is True
    assert capi.weft_value_get_int64(7) == 7
    assert capi.weft_value_get_double(1.5) == 1.5
    assert capi.weft_value_get_bytes(b"xy") == b"xy"
    assert capi.weft_value_get_bytes("text") == b"text"  # STRING reads as bytes
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_value_get_int64("not an int")
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_value_get_pointer(3)


def test_a_c_pointer_value_passes_its_ownership_to_weft_once(rt):
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    block = libc.malloc(16)
    free_address = ctypes.cast(libc.free, ctypes.c_void_p).value
    value = capi.weft_value_pointer(block, free_address)
    assert capi.weft_value_get_pointer(value) == block
    f = capi.weft_future_create(rt.loop)
    capi.weft_future_resolve(f, value)  # weft owns the block now; it frees it with the future
    assert capi.weft_future_result(f)[1] == block
    assert value.kind == capi.WEFT_VALUE_NONE  # handed over: cannot be given twice
    g = capi.weft_future_create(rt.loop)
    capi.weft_future_resolve(g, value)
    assert capi.weft_future_result(g)[1] is None
    capi.weft_future_release(f)
    capi.weft_future_release(g)


def test_python_objects_travel_by_reference(rt):
    payload = object()
    before = sys.getrefcount(payload)
    f = capi.weft_future_create(rt.loop)
    capi.weft_future_resolve(f, payload)
    assert capi.weft_future_result(f)[1] is payload
    capi.weft_future_release(f)
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_NOWAIT)
    gc.collect()
    assert sys.getrefcount(payload) == before


def test_version_functions():
    assert capi.weft_abi_version() == capi.WEFT_ABI_VERSION
    capi.weft_version_check(capi.WEFT_ABI_VERSION, capi.WEFT_VERSION_HEX)
    with pytest.raises(errors.VersionMismatchError):
        capi.weft_version_check(capi.WEFT_ABI_VERSION + 1, capi.WEFT_VERSION_HEX)
    assert capi.weft_status_str(capi.WEFT_ERR_TIMED_OUT) == "operation timed out"
