"""Streams over real connections (open_connection, start_server and the Unix
variants), with asyncio's streams and weft.streams, on weft's loop and
asyncio's (streams_twins.py): echo of many messages and of 1 MiB; drain
holding a writer back while the peer does not read, and a 16 MiB transfer
through a slow reader (the reader's transport pauses, the writer's drain
waits, every byte arrives in order); limit; EOF both ways; a reset
connection failing the read and drain; drain after close; cancelling a read
pending on a connection; TLS through ssl= and start_tls. Loopback only;
every wait is bounded."""
import asyncio
import hashlib
import os
import socket
import ssl
import struct
import tempfile

import pytest

from helpers.certificates import localhost_certificate
from loop_twins import AsyncioLoop, WeftLoop
from streams_twins import AsyncioStreams, StreamsCase, WeftStreams


@pytest.fixture(scope="module")
def certificate():
    with localhost_certificate() as paths:
        yield paths


@pytest.fixture
def tls_contexts(certificate):
    """(server context, client context) for the test certificate."""
    cert, key = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    return server_context, ssl.create_default_context(cafile=cert)


async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


class ConnectionCases(StreamsCase):
    async def serve(self, handler, **kwargs):
        server = await self.streams.start_server(handler, "127.0.0.1", 0, **kwargs)
        return server, server.sockets[0].getsockname()[1]

    async def stop(self, server, writer=None):
        if writer is not None:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()

    def test_echo(self):
        async def main():
            server, port = await self.serve(echo)
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            assert isinstance(reader, asyncio.StreamReader)
            assert isinstance(writer, asyncio.StreamWriter)
            assert isinstance(reader, self.streams.StreamReader)
            assert writer.transport.get_extra_info("peername") == ("127.0.0.1", port)
            assert writer.get_extra_info("peername") == ("127.0.0.1", port)
            assert writer.can_write_eof()
            for i in range(200):
                message = b"message %d\n" % i
                writer.write(message)
                await writer.drain()
                assert await reader.readline() == message
            payload = os.urandom(1 << 20)
            writer.writelines([payload[:1000], payload[1000:]])
            await writer.drain()
            assert await reader.readexactly(len(payload)) == payload
            assert not writer.is_closing()
            await self.stop(server, writer)
            assert writer.is_closing()

        self.run(main())

    def test_drain_waits_while_the_peer_does_not_read(self):
        async def main():
            accepted = self.loop.create_future()

            async def handle(reader, writer):
                accepted.set_result((reader, writer))

            server, port = await self.serve(handle)
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            peer_reader, peer_writer = await accepted
            chunk = b"x" * 65536
            written = 0
            while True:  # until the kernel's buffers are full and drain waits
                writer.write(chunk)
                written += len(chunk)
                try:
                    await asyncio.wait_for(writer.drain(), 0.1)
                except asyncio.TimeoutError:
                    break
                assert written < 512 << 20, "drain never waited"
            assert writer.transport.get_write_buffer_size() > 0
            drained = asyncio.ensure_future(writer.drain())
            await asyncio.sleep(0.01)
            assert not drained.done()
            assert len(await peer_reader.readexactly(written)) == written
            await asyncio.wait_for(drained, 10)
            peer_writer.close()
            await self.stop(server, writer)

        self.run(main())

    def test_slow_reader_backpressure(self):
        total = 16 << 20
        seen = {"paused": False, "buffered": 0}

        async def produce(reader, writer):
            block = bytes(range(256)) * 256  # 64 KiB
            digest = hashlib.sha256()
            for i in range(total // len(block)):
                data = struct.pack(">I", i) + block[4:]
                digest.update(data)
                writer.write(data)
                await writer.drain()
                seen["buffered"] = max(seen["buffered"], writer.transport.get_write_buffer_size())
            writer.write(digest.digest())
            await writer.drain()
            writer.close()

        async def main():
            server, port = await self.serve(produce)
            reader, writer = await self.streams.open_connection("127.0.0.1", port, limit=1 << 14)
            digest = hashlib.sha256()
            received = 0
            while received < total:
                data = await reader.read(min(1 << 15, total - received))
                assert data
                digest.update(data)
                received += len(data)
                if reader._paused or not writer.transport.is_reading():
                    seen["paused"] = True
                if received % (1 << 20) < len(data):
                    await asyncio.sleep(0.002)  # slow
            assert await reader.readexactly(32) == digest.digest()
            assert await reader.read() == b""
            await self.stop(server, writer)

        self.run(main(), timeout=120)
        assert seen["paused"]
        # drain returned only with the writer's buffer at most its high-water
        # mark (64 KiB) past one block.
        assert 0 < seen["buffered"] <= 128 << 10

    def test_limit_of_start_server_and_open_connection(self):
        async def main():
            outcome = self.loop.create_future()

            async def handle(reader, writer):
                try:
                    await reader.readline()
                except ValueError as e:
                    outcome.set_result(str(e))
                writer.write(b"0123456789\nshort\n")
                writer.close()

            server, port = await self.serve(handle, limit=16)
            reader, writer = await self.streams.open_connection("127.0.0.1", port, limit=8)
            writer.write(b"a line far longer than sixteen bytes\n")
            assert "limit" in await outcome
            with pytest.raises(ValueError, match="limit"):
                await reader.readline()
            assert await reader.readline() == b"short\n"
            assert await reader.read() == b""
            await self.stop(server, writer)

        self.run(main())

    def test_eof_both_ways(self):
        async def handle(reader, writer):
            data = await reader.read()
            assert reader.at_eof()
            writer.write(data.upper())
            writer.write_eof()
            await writer.drain()
            writer.close()

        async def main():
            server, port = await self.serve(handle)
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            writer.write(b"shout")
            writer.write_eof()
            assert await reader.read() == b"SHOUT"
            assert reader.at_eof()
            assert await reader.readline() == b""
            with pytest.raises(asyncio.IncompleteReadError):
                await reader.readexactly(1)
            await self.stop(server, writer)

        self.run(main())

    def test_reset_fails_read_and_drain(self):
        async def handle(reader, writer):
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await reader.readexactly(5)
            writer.transport.abort()  # RST

        async def main():
            server, port = await self.serve(handle)
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            writer.write(b"hello")
            with pytest.raises(ConnectionResetError):
                await reader.read(10)
            assert isinstance(reader.exception(), ConnectionResetError)
            with pytest.raises(ConnectionResetError):
                writer.write(b"more")
                await writer.drain()
            writer.close()
            with pytest.raises(ConnectionResetError):
                await writer.wait_closed()
            await self.stop(server)

        self.run(main())

    def test_drain_after_close_raises(self):
        async def main():
            server, port = await self.serve(echo)
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            writer.write(b"ping")
            await writer.drain()
            assert await reader.readexactly(4) == b"ping"
            writer.close()
            with pytest.raises(ConnectionResetError):
                await writer.drain()
            await writer.wait_closed()
            await self.stop(server)

        self.run(main())

    def test_cancel_a_read_pending_on_a_connection(self):
        async def main():
            server, port = await self.serve(echo)
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            pending = asyncio.ensure_future(reader.readuntil(b"!"))
            writer.write(b"abc")
            await writer.drain()
            await asyncio.sleep(0.05)
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
            writer.write(b"def!")
            assert await reader.readuntil(b"!") == b"abcdef!"
            await self.stop(server, writer)

        self.run(main())

    def test_plain_function_callback(self):
        async def main():
            got = self.loop.create_future()
            server, port = await self.serve(lambda r, w: got.set_result((r, w)))
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            peer_reader, peer_writer = await got
            assert isinstance(peer_writer, self.streams.StreamWriter)
            peer_writer.write(b"hi")
            assert await reader.readexactly(2) == b"hi"
            peer_writer.close()
            await self.stop(server, writer)

        self.run(main())

    def test_unix_socket(self):
        async def main():
            with tempfile.TemporaryDirectory() as directory:
                path = os.path.join(directory, "echo.sock")
                server = await self.streams.start_unix_server(echo, path)
                reader, writer = await self.streams.open_unix_connection(path)
                writer.write(b"over unix\n")
                assert await reader.readline() == b"over unix\n"
                await self.stop(server, writer)

        self.run(main())

    def test_tls(self, tls_contexts):
        server_context, client_context = tls_contexts

        async def main():
            server, port = await self.serve(echo, ssl=server_context)
            reader, writer = await self.streams.open_connection(
                "127.0.0.1", port, ssl=client_context, server_hostname="localhost")
            assert writer.get_extra_info("peercert")["subject"] == ((("commonName", "localhost"),),)
            payload = os.urandom(1 << 18)
            writer.write(payload)
            assert await reader.readexactly(len(payload)) == payload
            await self.stop(server, writer)

        self.run(main())

    def test_start_tls(self, tls_contexts):
        server_context, client_context = tls_contexts

        async def handle(reader, writer):
            assert await reader.readline() == b"STARTTLS\n"
            writer.write(b"GO\n")
            await writer.drain()
            await writer.start_tls(server_context)
            await echo(reader, writer)

        async def main():
            server, port = await self.serve(handle)
            reader, writer = await self.streams.open_connection("127.0.0.1", port)
            writer.write(b"STARTTLS\n")
            assert await reader.readline() == b"GO\n"
            await writer.start_tls(client_context, server_hostname="localhost")
            assert writer.get_extra_info("ssl_object") is not None
            writer.write(b"secret\n")
            assert await reader.readline() == b"secret\n"
            await self.stop(server, writer)

        self.run(main())


class TestWeftStreamsOnWeftLoop(ConnectionCases, WeftStreams, WeftLoop):
    pass


class TestWeftStreamsOnAsyncioLoop(ConnectionCases, WeftStreams, AsyncioLoop):
    pass


class TestAsyncioStreamsOnWeftLoop(ConnectionCases, AsyncioStreams, WeftLoop):
    pass


class TestAsyncioStreamsOnAsyncioLoop(ConnectionCases, AsyncioStreams, AsyncioLoop):
    pass
