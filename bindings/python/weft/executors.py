"""weft.executors: PoolExecutor, the default executor of weft.Loop.

A concurrent.futures.Executor whose work runs on weft's thread pool.
(This version hands work to a ThreadPoolExecutor.)
"""
import concurrent.futures

from asyncio import futures


class PoolExecutor(concurrent.futures.Executor):
    def __init__(self, loop):
        self._loop = loop
        self._threads = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="weft-py")

    def submit(self, fn, /, *args, **kwargs):
        return self._threads.submit(fn, *args, **kwargs)

    def _submit_for_loop(self, func, args):
        return futures.wrap_future(self._threads.submit(func, *args), loop=self._loop)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)
