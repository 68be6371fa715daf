"""A Python program that loads a C plugin (plugin.c, built as
weft_py_plugin.so) with ctypes and shares its weft runtime with it.

The program runs on weft.Loop; the plugin gets the loop's runtime handle
(weft.futures.runtime_of, passed by address), makes its own scope in it and
uses the program's loop and pool. A coroutine awaits the plugin's futures
(weft.Future), the plugin awaits a coroutine (weft.Future.from_awaitable),
and unloading the plugin cancels and drains its scope before its code is
dlclose()d.

    python3 main.py path/to/weft_py_plugin.so

Thread: everything runs on the main thread, the loop thread. (Plugin also
works with a plain runtime whose loop the program steps itself: `drive`.)
"""
import _ctypes
import asyncio
import contextlib
import ctypes
import sys

import weft
from weft import capi, errors


def _check(status, what):
    if status != capi.WEFT_OK:
        raise errors.from_status(status, "%s: %s" % (what, capi.weft_status_str(status)))


class Plugin:
    """The plugin's C functions, over ctypes. Loaded into `runtime` (a
    weft.capi runtime handle); Python registers its callbacks through
    `loop` (the program's loop handle)."""

    def __init__(self, path, runtime, loop, name="py-plugin"):
        self._library = ctypes.CDLL(path)
        self._loop = loop
        lib = self._library
        vp, u64, i64 = ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64
        for fn, argtypes in (("weft_py_plugin_load", [ctypes.POINTER(vp), vp, ctypes.c_char_p]),
                             ("weft_py_plugin_unload", [ctypes.POINTER(ctypes.c_size_t), vp, u64]),
                             ("weft_py_plugin_square_later", [ctypes.POINTER(vp), vp, i64, u64]),
                             ("weft_py_plugin_square_on_pool", [ctypes.POINTER(vp), vp, i64]),
                             ("weft_py_plugin_double_when", [ctypes.POINTER(vp), vp, vp]),
                             ("weft_py_plugin_cancel", [vp]),
                             ("weft_py_plugin_outstanding", [ctypes.POINTER(ctypes.c_size_t), vp]),
                             ("weft_py_plugin_free", [vp])):
            getattr(lib, fn).argtypes = argtypes
            getattr(lib, fn).restype = ctypes.c_int
        lib.weft_py_plugin_live_jobs.restype = ctypes.c_long
        self._plugin = vp()
        _check(lib.weft_py_plugin_load(ctypes.byref(self._plugin), capi.address_of(runtime),
                                       name.encode()), "weft_py_plugin_load")

    def _future(self, fn, *args):
        out = ctypes.c_void_p()
        _check(getattr(self._library, fn)(ctypes.byref(out), self._plugin, *args), fn)
        # The plugin gave us one reference: weft.Future takes it over.
        return weft.Future(capi.handle_from_address(out.value, "weft_future_t"), self._loop)

    def square_later(self, x, delay_ms):
        """A weft future resolved with x*x after delay_ms (a plugin timer)."""
        return self._future("weft_py_plugin_square_later", x, delay_ms * 1_000_000)

    def square_on_pool(self, x):
        """x*x computed by C work on the shared pool."""
        return self._future("weft_py_plugin_square_on_pool", x)

    def double_when(self, future):
        """The plugin waits for `future` (a weft.Future) and doubles its value."""
        return self._future("weft_py_plugin_double_when", future.address)

    @property
    def square_work_address(self):
        """The plugin's C work function (weft_work_fn), by address."""
        return ctypes.cast(self._library.weft_py_plugin_square_work, ctypes.c_void_p).value

    def live_jobs(self):
        return self._library.weft_py_plugin_live_jobs()

    def unload(self, timeout_s=1.0):
        """Cancels and drains the plugin's scope (running the loop), frees it
        and dlclose()s the library. Call on the loop thread, outside loop
        callbacks (from a coroutine on weft.Loop: `await unload_async()`)."""
        left = ctypes.c_size_t()
        _check(self._library.weft_py_plugin_unload(ctypes.byref(left), self._plugin,
                                                   int(timeout_s * 1e9)), "weft_py_plugin_unload")
        self._close()

    async def unload_async(self, timeout_s=1.0):
        """unload() from a coroutine: cancels the plugin's scope, lets the
        running loop finish what it has outstanding (at most timeout_s),
        then frees the plugin and dlclose()s it."""
        lib = self._library
        _check(lib.weft_py_plugin_cancel(self._plugin), "weft_py_plugin_cancel")
        left = ctypes.c_size_t()
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            _check(lib.weft_py_plugin_outstanding(ctypes.byref(left), self._plugin),
                   "weft_py_plugin_outstanding")
            if left.value == 0:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise errors.from_status(capi.WEFT_ERR_TIMED_OUT,
                                         "the plugin still has %d things outstanding" % left.value)
            await asyncio.sleep(0.001)
        _check(lib.weft_py_plugin_free(self._plugin), "weft_py_plugin_free")
        self._close()

    def _close(self):
        self._plugin = None
        handle, self._library = self._library._handle, None
        _ctypes.dlclose(handle)


@contextlib.asynccontextmanager
async def drive(loop):
    """Steps the weft loop from the running asyncio loop (same thread)."""
    async def step():
        while True:
            capi.weft_loop_run(loop, capi.WEFT_RUN_NOWAIT)
            await asyncio.sleep(0.001)

    task = asyncio.create_task(step())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def program(plugin_path, say=print):
    runtime = weft.futures.runtime_of()  # the running weft.Loop's
    loop = capi.weft_runtime_loop(runtime)
    plugin = Plugin(plugin_path, runtime, loop)
    say("plugin square_later(7) = %d" % await plugin.square_later(7, delay_ms=5))
    say("plugin square_on_pool(9) = %d" % await plugin.square_on_pool(9))

    async def answer():
        await asyncio.sleep(0.005)
        return 21

    python_future = weft.Future.from_awaitable(answer())
    say("plugin double_when(answer()) = %d" % await plugin.double_when(python_future))

    pending = plugin.square_later(3, delay_ms=60_000)
    await plugin.unload_async()
    try:
        await pending
    except asyncio.CancelledError:
        say("unloaded: its pending square_later(3) was cancelled")


def main(plugin_path, say=print):
    weft.run(program(plugin_path, say))


if __name__ == "__main__":
    main(sys.argv[1])
