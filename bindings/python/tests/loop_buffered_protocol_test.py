"""A BufferedProtocol on weft's loop and asyncio's, as a server's protocol:
the kernel's bytes land in get_buffer()'s memory (as much as one read may
take), pausing in buffer_updated and resuming soon or later loses nothing
and never has get_buffer() asked inside resume_reading or while paused, and
a get_buffer() that fails ends the connection with its exception. (Echo
through a BufferedProtocol with a tiny buffer: loop_transports_test.py.)
Loopback only; every wait is bounded."""
import asyncio
import hashlib
import time

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

TIMEOUT = 20


class Client(asyncio.Protocol):
    """A client that only waits for its connection to end."""

    def __init__(self, loop):
        self.lost = loop.create_future()

    def connection_lost(self, exc):
        self.lost.set_result(exc)


class BufferedProtocolCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    async def serve(self, factory):
        server = await self.loop.create_server(factory, "127.0.0.1", 0)
        return server, server.sockets[0].getsockname()[1]

    def test_buffered_protocol_reads_straight_into_its_buffer(self):
        # A 1 MiB get_buffer() memory and a receiver that stalls once, so
        # the kernel holds plenty: a read into the protocol's memory takes
        # as much as one read may (asyncio's recv_into: all of it; weft's:
        # 128 KiB, READ_INTO_MAX), not the pieces of weft's own pooled read
        # buffers (here 10 KiB, left by the echo tests before).
        total = 8 << 20

        class Sink(asyncio.BufferedProtocol):
            def __init__(self, loop):
                self.buffer = bytearray(1 << 20)
                self.digest = hashlib.sha256()
                self.received = 0
                self.largest = 0
                self.stalled = False
                self.done = loop.create_future()

            def connection_made(self, transport):
                self.transport = transport

            def get_buffer(self, sizehint):
                return self.buffer

            def buffer_updated(self, nbytes):
                if not self.stalled:
                    self.stalled = True
                    time.sleep(0.05)
                self.largest = max(self.largest, nbytes)
                self.digest.update(memoryview(self.buffer)[:nbytes])
                self.received += nbytes

            def eof_received(self):
                self.done.set_result(None)

        async def main():
            sinks = []

            def factory():
                sinks.append(Sink(self.loop))
                return sinks[-1]

            server, port = await self.serve(factory)
            transport, _ = await self.loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
            payload = bytes(range(256)) * 4096  # 1 MiB
            for _ in range(total // len(payload)):
                transport.write(payload)
            transport.write_eof()
            await sinks[0].done
            assert sinks[0].received == total
            assert sinks[0].digest.digest() == hashlib.sha256(payload * (total // len(payload))).digest()
            assert sinks[0].largest >= 128 * 1024, sinks[0].largest
            transport.close()
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_buffered_protocol_paused_in_buffer_updated_loses_nothing(self):
        # Pauses in every third buffer_updated and resumes soon or a moment
        # later;
        # get_buffer returns memory of a different size each time, and is
        # never called inside resume_reading (nor while paused).
        total = 2 << 20

        class Pausing(asyncio.BufferedProtocol):
            def __init__(self, loop):
                self.loop = loop
                self.data = bytearray()
                self.updates = 0
                self.paused_calls = 0
                self.paused = False
                self.resuming = False
                self.done = loop.create_future()

            def connection_made(self, transport):
                self.transport = transport

            def get_buffer(self, sizehint):
                assert not self.paused and not self.resuming
                self.buffer = bytearray(1000 + 7919 * (self.updates % 13))
                return self.buffer

            def buffer_updated(self, nbytes):
                assert not self.paused
                self.data += self.buffer[:nbytes]
                self.updates += 1
                if self.updates % 3 == 0:
                    self.paused = True
                    self.transport.pause_reading()
                    if self.updates % 2:  # before the loop polls again
                        self.loop.call_soon(self.resume)
                    else:
                        self.loop.call_later(0.001, self.resume)

            def resume(self):
                self.paused = False
                self.resuming = True
                self.transport.resume_reading()
                self.resuming = False

            def eof_received(self):
                self.done.set_result(None)

        async def main():
            sinks = []

            def factory():
                sinks.append(Pausing(self.loop))
                return sinks[-1]

            server, port = await self.serve(factory)
            transport, _ = await self.loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
            payload = bytes(i * 7 % 251 for i in range(total))
            transport.write(payload)
            transport.write_eof()
            await sinks[0].done
            assert bytes(sinks[0].data) == payload
            assert sinks[0].updates >= 3
            transport.close()
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_buffered_protocol_get_buffer_failure_ends_the_connection(self):
        class Failing(asyncio.BufferedProtocol):
            def __init__(self, loop):
                self.lost = loop.create_future()

            def get_buffer(self, sizehint):
                raise ValueError("no buffer today")

            def buffer_updated(self, nbytes):
                raise AssertionError("no bytes can arrive without a buffer")

            def connection_lost(self, exc):
                self.lost.set_result(exc)

        async def main():
            errors = []
            self.loop.set_exception_handler(lambda loop, context: errors.append(context))
            protocols = []

            def factory():
                protocols.append(Failing(self.loop))
                return protocols[-1]

            server, port = await self.serve(factory)
            transport, client = await self.loop.create_connection(
                lambda: Client(self.loop), "127.0.0.1", port)
            transport.write(b"anything")
            exc = await protocols[0].lost
            assert isinstance(exc, ValueError) and str(exc) == "no buffer today"
            assert any("get_buffer" in context.get("message", "") for context in errors), errors
            await client.lost  # the server's end was closed (a reset: bytes were unread)
            transport.close()
            server.close()
            await server.wait_closed()
            self.loop.set_exception_handler(None)

        self.run(main())


class TestWeftBufferedProtocol(BufferedProtocolCases, WeftLoop):
    pass


class TestAsyncioBufferedProtocol(BufferedProtocolCases, AsyncioLoop):
    pass
