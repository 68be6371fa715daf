"""Socket transports (create_connection/create_server's transports) on
weft's loop and asyncio's: echo through a Protocol, a BufferedProtocol and
asyncio streams; flow control both ways with a 16 MiB transfer through a
slow reader; connection_lost exactly once with the right exception; the
transport surface (extra info, write buffer limits, write_eof, set_protocol,
pause/resume reading). Loopback only; every wait is bounded."""
import asyncio
import hashlib
import socket
import tracemalloc

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

TIMEOUT = 20


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


class Recorder(asyncio.Protocol):
    """Records every protocol call; `lost` resolves with connection_lost's
    argument."""

    def __init__(self, loop):
        self.calls = []
        self.data = bytearray()
        self.lost = loop.create_future()
        self.eof = loop.create_future()
        self.keep_open_on_eof = False

    def connection_made(self, transport):
        self.calls.append("made")
        self.transport = transport

    def data_received(self, data):
        assert isinstance(data, bytes)
        self.calls.append("data")
        self.data += data

    def eof_received(self):
        self.calls.append("eof")
        self.eof.set_result(None)
        return self.keep_open_on_eof

    def connection_lost(self, exc):
        self.calls.append("lost")
        self.lost.set_result(exc)


class BufferedEcho(asyncio.BufferedProtocol):
    """Echoes through a deliberately small buffer: one chunk takes several
    get_buffer calls."""

    def __init__(self):
        self.buffer = bytearray(7)
        self.get_buffer_calls = 0

    def connection_made(self, transport):
        self.transport = transport

    def get_buffer(self, sizehint):
        self.get_buffer_calls += 1
        return self.buffer

    def buffer_updated(self, nbytes):
        self.transport.write(bytes(self.buffer[:nbytes]))


class TransportCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    async def serve(self, factory, **kwargs):
        server = await self.loop.create_server(factory, "127.0.0.1", 0, **kwargs)
        return server, server.sockets[0].getsockname()[1]

    async def read_until(self, protocol, size):
        for _ in range(TIMEOUT * 1000):
            if len(protocol.data) >= size:
                return
            await asyncio.sleep(0.001)
        raise AssertionError(f"only {len(protocol.data)} of {size} bytes arrived")

    def test_echo_through_protocol(self):
        async def main():
            server, port = await self.serve(Echo)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            assert isinstance(transport, asyncio.Transport)
            assert transport.get_protocol() is client
            sock = transport.get_extra_info("socket")
            assert isinstance(sock, asyncio.trsock.TransportSocket)
            assert transport.get_extra_info("peername") == ("127.0.0.1", port)
            assert transport.get_extra_info("sockname") == sock.getsockname()
            assert transport.get_extra_info("nothing", 42) == 42
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            duplicate = sock.dup()
            assert duplicate.getpeername() == ("127.0.0.1", port)
            duplicate.close()
            transport.write(b"hello ")
            transport.writelines([b"wor", bytearray(b"ld"), memoryview(b"!")])
            await self.read_until(client, 12)
            assert bytes(client.data) == b"hello world!"
            assert client.calls[:2] == ["made", "data"]
            transport.close()
            assert transport.is_closing()
            assert await client.lost is None
            assert client.calls.count("lost") == 1
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_echo_through_buffered_protocol(self):
        async def main():
            protocols = []

            def factory():
                protocols.append(BufferedEcho())
                return protocols[-1]

            server, port = await self.serve(factory)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            payload = bytes(range(256)) * 40
            transport.write(payload)
            await self.read_until(client, len(payload))
            assert bytes(client.data) == payload
            assert protocols[0].get_buffer_calls >= len(payload) // 7
            transport.close()
            await client.lost
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_echo_through_streams(self):
        async def handle(reader, writer):
            while line := await reader.readline():
                writer.write(line.upper())
                await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for i in range(50):
                writer.write(b"line %d\n" % i)
                await writer.drain()
                assert await reader.readline() == b"LINE %d\n" % i
            writer.write_eof()
            assert await reader.read() == b""
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_large_transfer_through_a_slow_reader_stays_bounded(self):
        total = 16 << 20
        chunk = 64 << 10
        sender_state = {"max_buffered": 0, "pauses": 0}

        class Sender(asyncio.Protocol):
            def connection_made(self, transport):
                self.transport = transport
                self.sent = 0
                self.paused = False
                self.digest = hashlib.sha256()
                self.pump()

            def pump(self):
                while not self.paused and self.sent < total:
                    block = (self.sent // chunk % 251).to_bytes(1, "big") * chunk
                    self.digest.update(block)
                    self.transport.write(block)
                    self.sent += chunk
                    sender_state["max_buffered"] = max(sender_state["max_buffered"],
                                                       self.transport.get_write_buffer_size())
                if self.sent >= total:
                    sender_state["digest"] = self.digest.hexdigest()
                    self.transport.close()

            def pause_writing(self):
                sender_state["pauses"] += 1
                self.paused = True

            def resume_writing(self):
                self.paused = False
                self.pump()

        loop = self.loop

        class SlowReader(Recorder):
            def __init__(self):
                super().__init__(loop)
                self.digest = hashlib.sha256()
                self.received = 0

            def data_received(self, data):
                self.digest.update(data)
                self.received += len(data)
                assert self.transport.is_reading()
                self.transport.pause_reading()
                assert not self.transport.is_reading()
                loop.call_later(0.0005, self.transport.resume_reading)

            def eof_received(self):
                self.eof.set_result(None)

        async def main():
            server, port = await self.serve(Sender)
            tracemalloc.start()
            try:
                transport, reader = await self.loop.create_connection(SlowReader, "127.0.0.1", port)
                await reader.eof
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert reader.received == total
            assert reader.digest.hexdigest() == sender_state["digest"]
            assert sender_state["pauses"] > 0
            low, high = transport.get_write_buffer_limits()
            assert (low, high) == (16 << 10, 64 << 10)
            assert sender_state["max_buffered"] <= high + chunk
            assert peak < 8 << 20, peak
            assert await reader.lost is None
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_bulk_stream_paused_and_resumed_from_outside_loses_nothing(self):
        # 8 MiB into a Protocol while a timer pauses and resumes reading on
        # its own schedule: no data_received while paused, every byte once,
        # in order, each chunk a bytes object.
        total = 8 << 20
        loop = self.loop

        class Sink(asyncio.Protocol):
            def __init__(self):
                self.digest = hashlib.sha256()
                self.received = 0
                self.paused = False
                self.toggles = 0
                self.done = loop.create_future()

            def connection_made(self, transport):
                self.transport = transport
                loop.call_later(0.0005, self.toggle)

            def toggle(self):
                if self.done.done():
                    return
                self.paused = not self.paused
                self.toggles += 1
                if self.paused:
                    self.transport.pause_reading()
                else:
                    self.transport.resume_reading()
                loop.call_later(0.0005 * (1 + self.toggles % 3), self.toggle)

            def data_received(self, data):
                assert type(data) is bytes and 0 < len(data) <= 256 << 10
                assert not self.paused, "data_received while paused"
                self.digest.update(data)
                self.received += len(data)

            def eof_received(self):
                self.done.set_result(None)

        async def main():
            sinks = []

            def factory():
                sinks.append(Sink())
                return sinks[-1]

            server, port = await self.serve(factory)
            transport, _ = await self.loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
            payload = bytes(i * 13 % 251 for i in range(1 << 20))
            for _ in range(total >> 20):
                transport.write(payload)
            transport.write_eof()
            await sinks[0].done
            assert sinks[0].received == total
            assert sinks[0].digest.digest() == hashlib.sha256(payload * (total >> 20)).digest()
            assert sinks[0].toggles >= 2
            transport.close()
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_write_buffer_limits(self):
        async def main():
            server, port = await self.serve(Echo)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            assert transport.get_write_buffer_limits() == (16 << 10, 64 << 10)
            transport.set_write_buffer_limits(high=1000)
            assert transport.get_write_buffer_limits() == (250, 1000)
            transport.set_write_buffer_limits(low=100)
            assert transport.get_write_buffer_limits() == (100, 400)
            transport.set_write_buffer_limits(0, 0)
            assert transport.get_write_buffer_limits() == (0, 0)
            with pytest.raises(ValueError):
                transport.set_write_buffer_limits(high=1, low=2)
            with pytest.raises(ValueError):
                transport.set_write_buffer_limits(high=-2, low=-1)
            assert transport.get_write_buffer_size() == 0
            transport.close()
            await client.lost
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_pause_writing_and_resume_writing(self):
        async def main():
            peer_transports = []

            class Stalled(asyncio.Protocol):
                # Pauses at its first bytes (asyncio 3.11 ignores a pause
                # inside connection_made).
                def connection_made(self, transport):
                    self.transport = transport

                def data_received(self, data):
                    if not peer_transports:
                        self.transport.pause_reading()
                        peer_transports.append(self.transport)

            server, port = await self.serve(Stalled)
            events = []

            class Writer(Recorder):
                def pause_writing(self):
                    events.append("pause")

                def resume_writing(self):
                    events.append("resume")

            transport, client = await self.loop.create_connection(
                lambda: Writer(self.loop), "127.0.0.1", port)
            transport.set_write_buffer_limits(high=64 << 10)
            block = b"x" * (1 << 20)
            for _ in range(32):
                transport.write(block)
                if events:
                    break
                await asyncio.sleep(0.01)
            assert events == ["pause"]
            assert transport.get_write_buffer_size() > 64 << 10
            for _ in range(TIMEOUT * 100):
                if peer_transports:
                    break
                await asyncio.sleep(0.01)
            peer_transports[0].resume_reading()
            for _ in range(TIMEOUT * 100):
                if events == ["pause", "resume"]:
                    break
                await asyncio.sleep(0.01)
            assert events == ["pause", "resume"]
            assert transport.get_write_buffer_size() <= 16 << 10
            transport.abort()
            assert await client.lost is None
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_pause_and_resume_reading(self):
        async def main():
            accepted = self.loop.create_future()

            def factory():
                protocol = Recorder(self.loop)
                accepted.set_result(protocol)
                return protocol

            server, port = await self.serve(factory)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            peer = await accepted
            await asyncio.sleep(0)
            assert transport.is_reading()
            transport.pause_reading()
            transport.pause_reading()  # twice is fine
            assert not transport.is_reading()
            peer.transport.write(b"while paused")
            await asyncio.sleep(0.1)
            assert client.data == b""
            transport.resume_reading()
            assert transport.is_reading()
            await self.read_until(client, 12)
            assert client.data == b"while paused"
            transport.close()
            assert not transport.is_reading()
            transport.resume_reading()  # closing: ignored
            assert not transport.is_reading()
            await client.lost
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_write_eof_half_closes(self):
        async def main():
            accepted = self.loop.create_future()

            def factory():
                protocol = Recorder(self.loop)
                protocol.keep_open_on_eof = True
                accepted.set_result(protocol)
                return protocol

            server, port = await self.serve(factory)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            assert transport.can_write_eof()
            transport.write(b"request")
            transport.write_eof()
            transport.write_eof()  # twice is fine
            with pytest.raises(RuntimeError):
                transport.write(b"more")
            peer = await accepted
            await peer.eof
            assert peer.data == b"request"
            peer.transport.write(b"reply")  # the other direction still works
            peer.transport.close()
            await client.eof
            assert client.data == b"reply"
            assert await client.lost is None  # eof_received returned None: closed
            assert client.calls == ["made", "data", "eof", "lost"]
            assert await peer.lost is None
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_write_rejects_what_is_not_bytes(self):
        async def main():
            server, port = await self.serve(Echo)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            for bad in ("text", 12, None, [b"x"]):
                with pytest.raises(TypeError):
                    transport.write(bad)
            transport.write(b"")  # nothing to do
            transport.close()
            await client.lost
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_abort_drops_the_queue_and_loses_once(self):
        async def main():
            server, port = await self.serve(Echo)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            transport.write(b"x" * (8 << 20))
            transport.abort()
            transport.abort()
            transport.close()
            assert transport.is_closing()
            assert await client.lost is None
            await asyncio.sleep(0.01)
            assert client.calls.count("lost") == 1
            assert transport.get_extra_info("socket").fileno() == -1
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_close_lets_queued_writes_out(self):
        async def main():
            accepted = self.loop.create_future()

            def factory():
                protocol = Recorder(self.loop)
                accepted.set_result(protocol)
                return protocol

            server, port = await self.serve(factory)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            payload = bytes(range(256)) * (4 << 12)  # 4 MiB
            transport.write(payload)
            transport.close()
            peer = await accepted
            await peer.eof
            assert bytes(peer.data) == payload
            assert await client.lost is None
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_connection_reset_is_reported_to_connection_lost(self):
        async def main():
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            listener.setblocking(False)
            port = listener.getsockname()[1]
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            peer, _ = await self.loop.sock_accept(listener)
            peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            peer.close()  # linger 0: a reset
            exc = await client.lost
            assert isinstance(exc, ConnectionResetError)
            assert client.calls.count("lost") == 1
            listener.close()

        self.run(main())

    def test_writing_to_a_closed_peer_fails_drain(self):
        # A writer that never waits (drain returns at once while not paused)
        # still learns that the peer is gone: write reports it at once.
        async def main():
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            listener.setblocking(False)
            port = listener.getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            peer, _ = await self.loop.sock_accept(listener)
            peer.close()
            with pytest.raises((ConnectionResetError, BrokenPipeError)):
                for _ in range(100000):
                    writer.write(b"foo\n")
                    await writer.drain()
            writer.close()
            listener.close()

        self.run(main())

    def test_data_received_error_goes_to_the_exception_handler(self):
        contexts = []
        self.loop.set_exception_handler(lambda loop, context: contexts.append(context))

        class Failing(Recorder):
            def data_received(self, data):
                raise ZeroDivisionError("boom")

        async def main():
            server, port = await self.serve(Echo)
            transport, client = await self.loop.create_connection(
                lambda: Failing(self.loop), "127.0.0.1", port)
            transport.write(b"ping")
            exc = await client.lost
            assert isinstance(exc, ZeroDivisionError)
            assert len(contexts) == 1
            assert contexts[0]["message"] == "Fatal error: protocol.data_received() call failed."
            assert contexts[0]["exception"] is exc
            assert contexts[0]["transport"] is transport
            assert contexts[0]["protocol"] is client
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_transport_left_open_when_the_loop_closes(self):
        async def main():
            server, port = await self.serve(Echo)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            server.close()
            return transport

        transport = self.run(main())
        self.loop.close()
        # What a transport can still be asked without its loop.
        transport.write(b"after the loop closed")
        assert transport.get_write_buffer_size() == 0
        with pytest.raises(RuntimeError):
            transport.close()  # connection_lost cannot be scheduled any more
        transport.abort()

    def test_set_protocol_switches_where_data_goes(self):
        async def main():
            server, port = await self.serve(Echo)
            transport, first = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            transport.write(b"one")
            await self.read_until(first, 3)
            second = Recorder(self.loop)
            transport.set_protocol(second)
            assert transport.get_protocol() is second
            transport.write(b"two")
            await self.read_until(second, 3)
            assert first.data == b"one" and second.data == b"two"
            transport.close()
            assert await second.lost is None
            assert not first.lost.done()
            server.close()
            await server.wait_closed()

        self.run(main())


    def test_is_closing_follows_every_way_a_transport_ends(self):
        async def main():
            server, port = await self.serve(Echo)
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            listener.setblocking(False)
            ends = []
            for how in ("close", "abort", "reset"):
                target = port if how != "reset" else listener.getsockname()[1]
                transport, client = await self.loop.create_connection(
                    lambda: Recorder(self.loop), "127.0.0.1", target)
                assert not transport.is_closing()
                transport.write(b"ping")
                await asyncio.sleep(0)  # weft sends a batch's writes at its end
                assert transport.get_write_buffer_size() == 0
                assert not transport.is_closing()
                if how == "close":
                    transport.close()
                    assert transport.is_closing()
                elif how == "abort":
                    transport.abort()
                    assert transport.is_closing()
                else:
                    peer, _ = await self.loop.sock_accept(listener)
                    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    peer.close()  # linger 0: a reset, a fatal read error
                exc = await asyncio.wait_for(client.lost, TIMEOUT)
                ends.append((how, transport.is_closing(), type(exc).__name__))
                assert transport.get_write_buffer_size() == 0
            assert ends == [("close", True, "NoneType"), ("abort", True, "NoneType"),
                            ("reset", True, "ConnectionResetError")]
            listener.close()
            server.close()
            await server.wait_closed()

        self.run(main())


class TestWeftTransports(TransportCases, WeftLoop):
    def test_per_message_transport_calls_are_c_methods(self):
        # asyncio's StreamWriter calls write and, in drain, is_closing for
        # every message: on weft's transport they are StreamCore's own
        # methods, with no Python frame in between.
        async def main():
            server, port = await self.serve(Echo)
            transport, client = await self.loop.create_connection(
                lambda: Recorder(self.loop), "127.0.0.1", port)
            for name in ("write", "is_closing", "get_write_buffer_size"):
                method = getattr(transport, name)
                assert type(method).__name__ == "builtin_function_or_method", name
                assert method.__self__ is transport._core, name
            transport.close()
            assert await client.lost is None
            server.close()
            await server.wait_closed()

        self.run(main())


class TestAsyncioTransports(TransportCases, AsyncioLoop):
    pass
