"""Writes a transport gathers while the loop runs a batch of callbacks
(native/stream_transport.c, "corked" bytes sent at the batch's end): the
order of bytes and of close/write_eof/abort stays asyncio's (twin classes),
and on weft the gathered bytes count in the write buffer until the batch
ends, drive pause_writing/resume_writing, and a failure to send them is
reported after the batch; a large write with nothing gathered before it is
sent at once. Loopback only; every wait is bounded."""
import asyncio
import socket
import struct

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

TIMEOUT = 20


class Collector(asyncio.Protocol):
    def __init__(self, loop):
        self.data = bytearray()
        self.eof = False
        self.keep_open = False
        self.done = loop.create_future()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.data += data

    def eof_received(self):
        self.eof = True
        return self.keep_open

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(exc)


class Writer(asyncio.Protocol):
    def __init__(self, loop):
        self.events = []
        self.lost = loop.create_future()

    def connection_made(self, transport):
        self.transport = transport

    def pause_writing(self):
        self.events.append("pause")

    def resume_writing(self):
        self.events.append("resume")

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(exc)


class GatherCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    async def connect(self):
        collector = Collector(self.loop)
        server = await self.loop.create_server(lambda: collector, "127.0.0.1", 0)
        self.server = server
        writer = Writer(self.loop)
        transport, _ = await self.loop.create_connection(
            lambda: writer, "127.0.0.1", server.sockets[0].getsockname()[1])
        return transport, writer, collector

    async def received(self, collector, size):
        for _ in range(2000):
            if len(collector.data) >= size:
                return bytes(collector.data)
            await asyncio.sleep(0.005)
        return bytes(collector.data)

    def teardown_method(self, method):
        server = getattr(self, "server", None)
        if server is not None:
            server.close()
            self.run(server.wait_closed())
        super().teardown_method(method)

    def test_small_and_large_writes_keep_their_order(self):
        pieces = [b"head", b"x" * 70_000, b"mid", b"y" * 40_000, b"z" * 30_000, b"tail"]
        expected = b"".join(pieces)

        async def main():
            transport, _, collector = await self.connect()
            for piece in pieces:
                transport.write(piece)
            data = await self.received(collector, len(expected))
            transport.close()
            return data

        assert self.run(main()) == expected

    def test_close_after_writes_sends_them_first(self):
        async def main():
            transport, writer, collector = await self.connect()
            transport.write(b"status line\r\n")
            transport.write(b"body")
            transport.close()
            await writer.lost
            await asyncio.wait_for(collector.done, TIMEOUT)
            return bytes(collector.data)

        assert self.run(main()) == b"status line\r\nbody"

    def test_write_eof_after_writes_sends_them_first(self):
        async def main():
            transport, writer, collector = await self.connect()
            collector.keep_open = True
            transport.write(b"one")
            transport.write(b"two")
            transport.write_eof()
            for _ in range(2000):
                if collector.eof:
                    break
                await asyncio.sleep(0.005)
            transport.close()
            return bytes(collector.data), collector.eof

        assert self.run(main()) == (b"onetwo", True)

    def test_writes_from_call_soon_callbacks_arrive(self):
        async def main():
            transport, _, collector = await self.connect()
            for i in range(100):
                self.loop.call_soon(transport.write, b"%03d" % i)
            expected = b"".join(b"%03d" % i for i in range(100))
            data = await self.received(collector, len(expected))
            transport.close()
            return data, expected

        data, expected = self.run(main())
        assert data == expected


class TestWeftGather(GatherCases, WeftLoop):
    def test_a_batch_writes_count_until_it_ends(self):
        async def main():
            transport, _, collector = await self.connect()
            transport.write(b"abc")
            transport.write(b"defg")
            during = transport.get_write_buffer_size()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            after = transport.get_write_buffer_size()
            data = await self.received(collector, 7)
            transport.close()
            return during, after, data

        assert self.run(main()) == (7, 0, b"abcdefg")

    def test_a_large_write_with_nothing_gathered_goes_at_once(self):
        big = b"L" * 8192  # CORK_DIRECT (4 KiB) or more: not copied to be gathered

        async def main():
            transport, _, collector = await self.connect()
            transport.write(big)
            alone = transport.get_write_buffer_size()
            transport.write(b"small")  # gathered after it
            transport.write(big)  # after gathered bytes: gathered too, in order
            after_small = transport.get_write_buffer_size()
            data = await self.received(collector, 2 * len(big) + 5)
            transport.close()
            return alone, after_small, data

        alone, after_small, data = self.run(main())
        assert alone == 0  # the kernel took it in write()
        assert after_small == 5 + len(big)
        assert data == big + b"small" + big

    def test_gathered_bytes_drive_flow_control(self):
        async def main():
            transport, writer, collector = await self.connect()
            transport.set_write_buffer_limits(high=100, low=10)
            transport.write(b"a" * 60)
            assert writer.events == []
            transport.write(b"b" * 60)  # 120 queued > 100
            assert writer.events == ["pause"]
            await asyncio.sleep(0)  # the batch ended: sent, resumed
            await asyncio.sleep(0)
            events = list(writer.events)
            data = await self.received(collector, 120)
            transport.close()
            return events, data

        events, data = self.run(main())
        assert events == ["pause", "resume"]
        assert data == b"a" * 60 + b"b" * 60

    def test_abort_drops_gathered_bytes(self):
        async def main():
            transport, writer, collector = await self.connect()
            transport.write(b"never sent")
            transport.abort()
            await writer.lost
            await asyncio.wait_for(collector.done, TIMEOUT)
            return bytes(collector.data)

        assert self.run(main()) == b""

    def test_send_failure_after_the_batch_is_reported(self):
        async def main():
            transport, writer, collector = await self.connect()
            # Not reading: only the write can learn of the reset.
            transport.pause_reading()
            # The peer resets the connection (SO_LINGER 0, then close).
            peer = collector.transport.get_extra_info("socket")
            peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            collector.transport.abort()
            await asyncio.wait_for(collector.done, TIMEOUT)
            await asyncio.sleep(0.05)
            transport.write(b"into a reset connection")  # gathered: no error yet
            assert not writer.lost.done()
            exc = await asyncio.wait_for(writer.lost, TIMEOUT)
            return exc, transport.is_closing()

        exc, closing = self.run(main())
        assert isinstance(exc, ConnectionError)
        assert closing


class TestAsyncioGather(GatherCases, AsyncioLoop):
    pass
