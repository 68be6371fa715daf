"""The runtime's allocator from Python: C functions given by address
(weft_runtime_options.set_allocator), here tests/counting_allocator.c."""
import ctypes
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import pytest  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.runtime import Runtime, wait_outcome  # noqa: E402


def test_a_c_allocator_given_by_address_gets_everything_back():
    lib = ctypes.CDLL(os.path.join(HERE, "libcounting_allocator.so"))
    lib.counting_allocations.restype = ctypes.c_long
    lib.counting_live_bytes.restype = ctypes.c_long
    address = lambda fn: ctypes.cast(fn, ctypes.c_void_p).value  # noqa: E731
    options = capi.weft_runtime_options()
    options.threads = 2
    options.set_allocator(address(lib.counting_alloc), address(lib.counting_free), 0)
    rt = Runtime(options=options)
    runtime = rt.runtime
    work = capi.weft_executor_submit(rt.pool, rt.loop, lambda: b"x" * 100)
    assert wait_outcome(rt, work) == (capi.WEFT_OK, b"x" * 100, None)
    before = lib.counting_allocations()
    assert before > 0 and lib.counting_live_bytes() > 0
    assert capi.weft_runtime_stats(runtime).bytes_allocated > 0
    extra = [capi.weft_future_create(rt.loop) for _ in range(10)]
    assert lib.counting_allocations() >= before + 10  # futures come from it
    for f in extra:
        capi.weft_future_release(f)
    capi.weft_future_release(work)
    rt.close()
    assert lib.counting_live_bytes() == 0  # everything went back to it


def test_half_an_allocator_is_refused():
    options = capi.weft_runtime_options()
    options.set_allocator(ctypes.cast(ctypes.CDLL(None).malloc, ctypes.c_void_p).value, 0, 0)
    with pytest.raises(errors.InvalidArgumentError) as failure:
        capi.weft_runtime_create(options)
    assert "weft_runtime_create" in failure.value.message
