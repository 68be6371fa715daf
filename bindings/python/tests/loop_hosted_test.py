"""Host-driven stepping: a host owns a weft runtime and steps it with
weft_loop_run_for each frame (here through ctypes, as a C host would);
Python coroutines on weft.attach_loop(runtime) progress inside those steps
with asyncio's running loop set. The host calls with the GIL released
(ctypes.CDLL) or held (ctypes.PyDLL)."""
import asyncio
import ctypes
import time

import pytest

import weft

FRAME_BUDGET_NS = 2_000_000
MAX_FRAMES = 2000


class RunReport(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("ran", ctypes.c_size_t),
                ("ready", ctypes.c_size_t), ("next_timer_ns", ctypes.c_uint64),
                ("has_next_timer", ctypes.c_int), ("stopped", ctypes.c_int)]


def _library(holds_gil):
    # The libweft.so.1 weft._capi already loaded: one weft per process.
    lib = (ctypes.PyDLL if holds_gil else ctypes.CDLL)("libweft.so.1")
    lib.weft_runtime_create.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    lib.weft_runtime_loop.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    lib.weft_runtime_destroy.argtypes = [ctypes.c_void_p]
    lib.weft_loop_run_for.argtypes = [ctypes.POINTER(RunReport), ctypes.c_void_p,
                                      ctypes.c_uint64]
    return lib


class Host:
    """A frame loop over a runtime it owns."""

    def __init__(self, holds_gil):
        self.lib = _library(holds_gil)
        self.runtime = ctypes.c_void_p()
        assert self.lib.weft_runtime_create(ctypes.byref(self.runtime), None) == 0
        self.loop_handle = ctypes.c_void_p()
        assert self.lib.weft_runtime_loop(ctypes.byref(self.loop_handle), self.runtime) == 0
        self.frames = 0

    def step(self):
        report = RunReport(ctypes.sizeof(RunReport), 0, 0, 0, 0, 0)
        status = self.lib.weft_loop_run_for(ctypes.byref(report), self.loop_handle,
                                            FRAME_BUDGET_NS)
        assert status == 0
        self.frames += 1
        return report

    def run_frames_until(self, done, frame_seconds=0.002):
        for _ in range(MAX_FRAMES):
            if done():
                return
            self.step()
            time.sleep(frame_seconds)  # the host's own work for the frame
        raise AssertionError("not done within the frame bound")

    def destroy(self):
        assert self.lib.weft_runtime_destroy(self.runtime) == 0


@pytest.fixture(params=["gil_released", "gil_held"])
def host(request):
    host = Host(holds_gil=request.param == "gil_held")
    yield host
    host.destroy()


def test_coroutines_progress_inside_host_steps(host):
    loop = weft.attach_loop(host.runtime.value)
    assert loop.hosted
    seen = []

    async def child(i):
        await asyncio.sleep(0.001)
        return i * 10

    async def ticker():
        for tick in range(5):
            seen.append((tick, asyncio.get_running_loop() is loop))
            await asyncio.sleep(0.003)
        return await asyncio.gather(*(asyncio.get_running_loop().create_task(child(i))
                                      for i in range(3)))

    task = loop.create_task(ticker())
    host.run_frames_until(task.done)
    assert task.result() == [0, 10, 20]
    assert seen == [(t, True) for t in range(5)]
    assert host.frames >= 5  # the sleeps spread it over frames
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # set only while the host steps
    loop.close()


def test_callbacks_and_threadsafe_posts_run_in_steps(host):
    import threading
    loop = weft.Loop.attach(host.runtime.value)
    out = []
    loop.call_soon(out.append, "soon")
    loop.call_later(0.005, out.append, "later")
    threading.Thread(target=loop.call_soon_threadsafe, args=(out.append, "thread")).start()
    host.run_frames_until(lambda: len(out) == 3)
    assert out[0] == "soon" and sorted(out[1:]) == ["later", "thread"]
    loop.close()


def test_executor_work_completes_in_steps(host):
    loop = weft.attach_loop(host.runtime.value)

    async def main():
        return await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2, 3])

    task = loop.create_task(main())
    host.run_frames_until(task.done)
    assert task.result() == 6
    loop.close()


def test_hosted_loop_cannot_run_forever(host):
    loop = weft.attach_loop(host.runtime.value)
    with pytest.raises(RuntimeError):
        loop.run_forever()
    loop.close()


def test_host_destroys_runtime_with_work_pending(host):
    loop = weft.attach_loop(host.runtime.value)
    loop.call_soon(print, "never")
    loop.call_later(3600, print, "never")
    task = loop.create_task(asyncio.sleep(3600))
    host.step()
    loop.close()
    del task


def test_attach_rejects_bad_runtimes():
    with pytest.raises((TypeError, ValueError)):
        weft.attach_loop(0)
    with pytest.raises(TypeError):
        weft.attach_loop("runtime")
