"""Test helpers over the raw weft.capi: a runtime per test, and running its
loop until a condition holds (bounded in time). Loop thread: the test's."""
import time

from weft import capi

MS = 1_000_000


class Runtime:
    """A runtime with `threads` pool workers and the given clock (or the
    given weft_runtime_options); destroyed by close() (tests call it, or use
    it as a context manager)."""

    def __init__(self, threads=2, manual_clock=False, options=None):
        if options is None:
            options = capi.weft_runtime_options()
            options.threads = threads
            if manual_clock:
                options.clock = capi.WEFT_CLOCK_MANUAL
        self.runtime = capi.weft_runtime_create(options)
        self.loop = capi.weft_runtime_loop(self.runtime)
        self.pool = capi.weft_runtime_pool(self.runtime)

    def run_until(self, condition, timeout=10.0):
        """Steps the loop (ONCE, woken at least every 10 ms by a timer) until
        condition() is true; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached in %.1f s" % timeout
            wake = capi.weft_loop_call_later(self.loop, 10 * MS, None)
            capi.weft_loop_run(self.loop, capi.WEFT_RUN_ONCE)
            if _pending(wake):
                capi.weft_future_cancel(wake)
            capi.weft_future_release(wake)

    def close(self):
        if self.runtime is not None:
            capi.weft_runtime_destroy(self.runtime)
            self.runtime = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _pending(future):
    try:
        capi.weft_future_result(future)
        return False
    except capi.Error as e:
        if e.status == capi.WEFT_ERR_NOT_READY:
            return True
        raise


def wait_outcome(rt, future, timeout=10.0):
    """Runs rt's loop until `future` completes; returns (status, value, message)."""
    rt.run_until(lambda: not _pending(future), timeout)
    return capi.weft_future_result(future)
