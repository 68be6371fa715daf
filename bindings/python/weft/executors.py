"""weft.executors: PoolExecutor, weft.Loop's default executor — Python
callables run on the loop's weft runtime pool (native/pool_work.c), taking
the GIL for the call.

A concurrent.futures.Executor: submit() works from the loop's thread at
once, and from other threads through call_soon_threadsafe (so it needs the
loop running). run_in_executor(None, ...) skips the concurrent.futures
future: the work completes an asyncio.Future on the loop thread directly.
shutdown(wait=True) waits for the loop's work to finish (not from the loop
thread while work needs the loop).
"""
import asyncio
import atexit
import concurrent.futures
import threading
import time

from . import _capi

atexit.register(_capi._pool_at_exit)


def _deliver(future, failed, value):
    # Loop thread: a pool job's outcome (posted by the worker, in order with
    # its call_soon_threadsafe posts).
    if future.done():
        return
    if not failed:
        future.set_result(value)
    elif isinstance(value, concurrent.futures.CancelledError):
        future.cancel()
    elif isinstance(value, concurrent.futures.InvalidStateError):
        future.set_exception(asyncio.InvalidStateError(*value.args))
    else:
        future.set_exception(value)


_capi._pool_configure(_deliver)


class PoolExecutor(concurrent.futures.Executor):
    """Runs work on the weft pool of `loop`'s runtime."""

    def __init__(self, loop):
        self._loop = loop
        self._shutdown = False

    def _check_open(self):
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")

    def _submit_for_loop(self, func, args):
        # Loop thread: an asyncio.Future completed by the work.
        self._check_open()
        future = self._loop.create_future()
        _capi._pool_submit(self._loop, future, func, args)
        return future

    def submit(self, fn, /, *args, **kwargs):
        self._check_open()
        if kwargs:
            call, args = (lambda: fn(*args, **kwargs)), ()
        else:
            call = fn
        future = concurrent.futures.Future()
        if self._loop._thread_id in (None, threading.get_ident()):
            _capi._pool_submit(self._loop, future, call, tuple(args))
        else:
            def submit_on_loop():
                try:
                    _capi._pool_submit(self._loop, future, call, tuple(args))
                except BaseException as exc:
                    if future.set_running_or_notify_cancel():
                        future.set_exception(exc)
            self._loop.call_soon_threadsafe(submit_on_loop)
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._shutdown = True
        if not wait or self._loop.is_closed():
            return
        # Work in flight finishes on the pool's threads; the count drops as
        # each ends (poll: the work may need this thread's GIL to finish).
        delay = 0.0005
        while _capi._pool_in_flight(self._loop) > 0:
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
