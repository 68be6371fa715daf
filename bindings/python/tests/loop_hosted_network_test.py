"""Sockets on a host-stepped loop: a host owns a weft runtime and steps it
with weft_loop_run_for (through ctypes, as a C host would); a server and a
client on weft.attach_loop(runtime) exchange bytes inside those steps, and
the protocol sees asyncio's running loop set when the bytes arrive (they
are delivered from weft's read callback, outside the loop's own batches)."""
import asyncio
import ctypes
import time

import pytest

import weft

FRAME_BUDGET_NS = 2_000_000
MAX_FRAMES = 3000


class RunReport(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("ran", ctypes.c_size_t),
                ("ready", ctypes.c_size_t), ("next_timer_ns", ctypes.c_uint64),
                ("has_next_timer", ctypes.c_int), ("stopped", ctypes.c_int)]


class Host:
    """A frame loop over a runtime it owns (the GIL held or released while
    it steps, as ctypes.PyDLL or CDLL call)."""

    def __init__(self, holds_gil):
        lib = (ctypes.PyDLL if holds_gil else ctypes.CDLL)("libweft.so.1")
        lib.weft_runtime_create.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        lib.weft_runtime_loop.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        lib.weft_runtime_destroy.argtypes = [ctypes.c_void_p]
        lib.weft_loop_run_for.argtypes = [ctypes.POINTER(RunReport), ctypes.c_void_p,
                                          ctypes.c_uint64]
        self.lib = lib
        self.runtime = ctypes.c_void_p()
        assert lib.weft_runtime_create(ctypes.byref(self.runtime), None) == 0
        self.loop_handle = ctypes.c_void_p()
        assert lib.weft_runtime_loop(ctypes.byref(self.loop_handle), self.runtime) == 0

    def run_frames_until(self, done):
        for _ in range(MAX_FRAMES):
            if done():
                return
            report = RunReport(ctypes.sizeof(RunReport), 0, 0, 0, 0, 0)
            assert self.lib.weft_loop_run_for(ctypes.byref(report), self.loop_handle,
                                              FRAME_BUDGET_NS) == 0
            time.sleep(0.001)
        raise AssertionError("not done within the frame bound")

    def destroy(self):
        assert self.lib.weft_runtime_destroy(self.runtime) == 0


@pytest.fixture(params=["gil_released", "gil_held"])
def host(request):
    host = Host(holds_gil=request.param == "gil_held")
    yield host
    host.destroy()


def test_echo_inside_host_steps(host):
    loop = weft.attach_loop(host.runtime.value)
    running_at_delivery = []

    class Echo(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport

        def data_received(self, data):
            running_at_delivery.append(asyncio.get_running_loop() is loop)
            self.transport.write(data)

    async def main():
        server = await loop.create_server(Echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(20):
            writer.write(b"frame %d\n" % i)
            assert await reader.readline() == b"frame %d\n" % i
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return "done"

    task = loop.create_task(main())
    host.run_frames_until(task.done)
    assert task.result() == "done"
    assert running_at_delivery and all(running_at_delivery)
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # set only while the host steps
    loop.close()
