"""connect_read_pipe/connect_write_pipe on os.pipe() with weft's loop and
asyncio's: data and end of stream, pause/resume reading, write buffer
limits and flow control, write_eof, close/abort, connection_lost once,
a reader gone, and what asyncio refuses."""
import asyncio
import io
import os
import socket
import sys

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

LIMIT = 20  # seconds, for any one wait


class Recorder(asyncio.Protocol):
    """Records every protocol call; `lost` resolves at connection_lost."""

    def __init__(self, loop):
        self.events = []
        self.data = bytearray()
        self.lost = loop.create_future()
        self.resumed = None

    def connection_made(self, transport):
        self.events.append("made")
        self.transport = transport

    def data_received(self, data):
        self.data += data
        self.events.append("data")

    def eof_received(self):
        self.events.append("eof")

    def pause_writing(self):
        self.events.append("pause")

    def resume_writing(self):
        self.events.append("resume")
        if self.resumed is not None and not self.resumed.done():
            self.resumed.set_result(None)

    def connection_lost(self, exc):
        self.events.append(("lost", exc))
        self.lost.set_result(exc)


class PipeCases(LoopCase):
    def setup_method(self, method):
        super().setup_method(method)
        self.fds = list(os.pipe())

    def teardown_method(self, method):
        super().teardown_method(method)
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, LIMIT))

    def is_reading(self, transport):
        """transport.is_reading(); None on asyncio 3.11's pipe transport,
        which does not implement it (weft's does)."""
        if not self.is_weft:
            return None
        return transport.is_reading()

    def read_pipe(self):
        fd = self.fds[0]
        return os.fdopen(fd, "rb", buffering=0)

    def write_pipe(self):
        fd = self.fds[1]
        return os.fdopen(fd, "wb", buffering=0)

    def test_read_data_then_eof_then_lost_once(self):
        async def main():
            pipe = self.read_pipe()
            transport, proto = await self.loop.connect_read_pipe(lambda: Recorder(self.loop),
                                                                 pipe)
            assert isinstance(transport, asyncio.ReadTransport)
            assert transport.get_extra_info("pipe") is pipe
            assert self.is_reading(transport) in (True, None)
            os.write(self.fds[1], b"one")
            while proto.data != b"one":
                await asyncio.sleep(0.01)
            os.write(self.fds[1], b"two")
            os.close(self.fds[1])
            assert await proto.lost is None
            await asyncio.sleep(0.01)
            assert pipe.closed
            return proto

        proto = self.run(main())
        assert bytes(proto.data) == b"onetwo"
        assert proto.events[0] == "made"
        assert proto.events[-2:] == ["eof", ("lost", None)]

    def test_pause_and_resume_reading(self):
        async def main():
            transport, proto = await self.loop.connect_read_pipe(lambda: Recorder(self.loop),
                                                                 self.read_pipe())
            transport.pause_reading()
            assert self.is_reading(transport) in (False, None)
            transport.pause_reading()  # twice is fine
            os.write(self.fds[1], b"held back")
            await asyncio.sleep(0.1)
            held = bytes(proto.data)
            transport.resume_reading()
            assert self.is_reading(transport) in (True, None)
            while proto.data != b"held back":
                await asyncio.sleep(0.01)
            transport.close()
            assert await proto.lost is None
            assert self.is_reading(transport) in (False, None)
            return held

        assert self.run(main()) == b""

    def test_close_a_read_pipe(self):
        async def main():
            pipe = self.read_pipe()
            transport, proto = await self.loop.connect_read_pipe(lambda: Recorder(self.loop),
                                                                 pipe)
            transport.close()
            assert transport.is_closing()
            transport.close()
            assert await proto.lost is None
            await asyncio.sleep(0.01)
            return proto.events, pipe.closed

        events, closed = self.run(main())
        assert events == ["made", ("lost", None)]
        assert closed

    def test_write_then_eof(self):
        async def main():
            transport, proto = await self.loop.connect_write_pipe(lambda: Recorder(self.loop),
                                                                  self.write_pipe())
            assert isinstance(transport, asyncio.WriteTransport)
            assert transport.can_write_eof()
            transport.write(b"abc")
            transport.write(bytearray(b"def"))
            transport.write(memoryview(b"ghi"))
            transport.write(b"")
            transport.write_eof()
            assert transport.is_closing()
            assert await proto.lost is None
            chunks = []
            while True:
                chunk = os.read(self.fds[0], 100)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks), proto.events

        data, events = self.run(main())
        assert data == b"abcdefghi"
        assert events == ["made", ("lost", None)]

    def test_flow_control_pauses_and_resumes(self):
        async def main():
            transport, proto = await self.loop.connect_write_pipe(lambda: Recorder(self.loop),
                                                                  self.write_pipe())
            transport.set_write_buffer_limits(high=4096, low=1024)
            assert transport.get_write_buffer_limits() == (1024, 4096)
            proto.resumed = self.loop.create_future()
            # More than the kernel's pipe buffer (64 KiB): the rest queues.
            payload = b"w" * (512 * 1024)
            transport.write(payload)
            assert transport.get_write_buffer_size() > 4096
            assert proto.events == ["made", "pause"]
            received = bytearray()
            os.set_blocking(self.fds[0], False)
            while not proto.resumed.done():
                try:
                    received += os.read(self.fds[0], 65536)
                except BlockingIOError:
                    await asyncio.sleep(0.005)
            assert transport.get_write_buffer_size() <= 1024
            transport.close()
            while len(received) < len(payload):
                try:
                    chunk = os.read(self.fds[0], 65536)
                except BlockingIOError:
                    await asyncio.sleep(0.005)
                    continue
                if not chunk:
                    break
                received += chunk
            assert await proto.lost is None
            return len(received), proto.events

        size, events = self.run(main())
        assert size == 512 * 1024
        assert events == ["made", "pause", "resume", ("lost", None)]

    def test_bad_write_buffer_limits(self):
        async def main():
            transport, _ = await self.loop.connect_write_pipe(lambda: Recorder(self.loop),
                                                              self.write_pipe())
            with pytest.raises(ValueError):
                transport.set_write_buffer_limits(high=10, low=20)
            with pytest.raises(ValueError):
                transport.set_write_buffer_limits(high=-1)
            transport.close()

        self.run(main())

    def test_abort_drops_what_is_queued(self):
        async def main():
            transport, proto = await self.loop.connect_write_pipe(lambda: Recorder(self.loop),
                                                                  self.write_pipe())
            transport.write(b"q" * (512 * 1024))
            transport.abort()
            transport.abort()
            transport.close()
            assert await proto.lost is None
            return proto.events

        assert self.run(main())[-1] == ("lost", None)

    def test_reader_gone_fails_the_write(self):
        async def main():
            transport, proto = await self.loop.connect_write_pipe(lambda: Recorder(self.loop),
                                                                  self.write_pipe())
            os.close(self.fds[0])
            transport.write(b"nobody reads this")
            exc = await proto.lost
            transport.write(b"dropped")  # after the loss: counted, not raised
            return exc, proto.events.count(("lost", exc))

        exc, lost_count = self.run(main())
        assert isinstance(exc, BrokenPipeError)
        assert lost_count == 1

    def test_reader_gone_ends_an_idle_write_pipe(self):
        async def main():
            transport, proto = await self.loop.connect_write_pipe(lambda: Recorder(self.loop),
                                                                  self.write_pipe())
            transport.write(b"1")
            await asyncio.sleep(0.05)
            assert os.read(self.fds[0], 10) == b"1"
            os.close(self.fds[0])
            return await proto.lost

        assert self.run(main()) is None

    def test_reader_gone_ends_an_idle_socket_pipe(self):
        async def main():
            ours, theirs = socket.socketpair()
            with theirs:
                pipe = io.open(ours.detach(), "wb", 1024)
                transport, proto = await self.loop.connect_write_pipe(
                    lambda: Recorder(self.loop), pipe)
                transport.write(b"1")
                await asyncio.sleep(0.05)
                assert theirs.recv(10) == b"1"
            exc = await proto.lost
            await asyncio.sleep(0.01)
            return exc, pipe.closed

        assert self.run(main()) == (None, True)

    def test_write_refuses_str(self):
        async def main():
            transport, _ = await self.loop.connect_write_pipe(lambda: Recorder(self.loop),
                                                              self.write_pipe())
            try:
                transport.write("text")
            finally:
                transport.close()

        with pytest.raises((TypeError, AssertionError)):
            self.run(main())

    def test_regular_file_is_refused(self, tmp_path):
        path = tmp_path / "regular"
        path.write_bytes(b"")

        async def main():
            with open(path, "rb") as file:
                await self.loop.connect_read_pipe(lambda: Recorder(self.loop), file)

        with pytest.raises(ValueError, match="Pipe transport is for pipes/sockets only."):
            self.run(main())

    def test_streams_over_pipes(self):
        async def main():
            reader = asyncio.StreamReader()
            await self.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                              self.read_pipe())
            transport, protocol = await self.loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, self.write_pipe())
            writer = asyncio.StreamWriter(transport, protocol, None, self.loop)
            lines = [b"line %d\n" % i for i in range(1000)]
            for line in lines:
                writer.write(line)
            await writer.drain()
            writer.close()
            got = [await reader.readline() for _ in lines]
            return got == lines, await reader.read()

        assert self.run(main()) == (True, b"")


class TestWeftPipes(PipeCases, WeftLoop):
    def test_protocol_error_fails_the_transport(self):
        # weft calls data_received from its read callback: an exception
        # there goes to the exception handler and ends the transport (as
        # asyncio's socket transports do), it does not reach weft.
        class Failing(Recorder):
            def data_received(self, data):
                raise ZeroDivisionError("protocol bug")

        contexts = []
        self.loop.set_exception_handler(lambda loop, context: contexts.append(context))

        async def main():
            transport, proto = await self.loop.connect_read_pipe(lambda: Failing(self.loop),
                                                                 self.read_pipe())
            os.write(self.fds[1], b"boom")
            return await proto.lost, transport.is_closing()

        exc, closing = self.run(main())
        assert isinstance(exc, ZeroDivisionError) and closing
        assert len(contexts) == 1 and contexts[0]["exception"] is exc


class TestAsyncioPipes(PipeCases, AsyncioLoop):
    pass


if __name__ == "__main__":
    sys.exit(pytest.main(["-q", sys.argv[0]]))
