"""create_server, create_connection, the Unix socket variants and
connect_accepted_socket on weft's loop and asyncio's: several hosts,
sock=, reuse_port, start_serving, the asyncio.Server surface, closing
with live connections, refused and cancelled connections, local_addr,
happy eyeballs, and bad arguments raising the same exception types.
Loopback only; every wait is bounded."""
import asyncio
import os
import socket
import tempfile

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

TIMEOUT = 20


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class ServerCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    async def echo_once(self, port, host="127.0.0.1", payload=b"ping"):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(payload)
        got = await reader.readexactly(len(payload))
        writer.close()
        await writer.wait_closed()
        return got

    def test_server_surface(self):
        async def main():
            server = await self.loop.create_server(Echo, "127.0.0.1", 0)
            assert isinstance(server, asyncio.AbstractServer)
            assert server.get_loop() is self.loop
            assert server.is_serving()
            (sock,) = server.sockets
            assert isinstance(sock, asyncio.trsock.TransportSocket)
            port = sock.getsockname()[1]
            assert await self.echo_once(port) == b"ping"
            server.close()
            assert not server.is_serving()
            assert server.sockets == ()
            await server.wait_closed()

        self.run(main())

    def test_async_with_closes_the_server(self):
        async def main():
            async with await self.loop.create_server(Echo, "127.0.0.1", 0) as server:
                port = server.sockets[0].getsockname()[1]
                assert await self.echo_once(port) == b"ping"
            assert not server.is_serving()
            with pytest.raises(OSError):
                await self.echo_once(port)

        self.run(main())

    @pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
    def test_several_hosts(self):
        async def main():
            server = await self.loop.create_server(Echo, ["127.0.0.1", "::1"], 0)
            families = sorted(s.family for s in server.sockets)
            assert families == sorted([socket.AF_INET, socket.AF_INET6])
            for s in server.sockets:
                host, port = s.getsockname()[:2]
                assert await self.echo_once(port, host) == b"ping"
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_sock_and_start_serving_later(self):
        async def main():
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            port = listener.getsockname()[1]
            server = await self.loop.create_server(Echo, sock=listener, start_serving=False,
                                                   backlog=5)
            assert not server.is_serving()
            await server.start_serving()
            assert server.is_serving()
            assert await self.echo_once(port) == b"ping"
            server.close()
            await server.wait_closed()
            assert listener.fileno() == -1  # the server closed it

        self.run(main())

    def test_reuse_port(self):
        async def main():
            first = await self.loop.create_server(Echo, "127.0.0.1", 0, reuse_port=True)
            port = first.sockets[0].getsockname()[1]
            second = await self.loop.create_server(Echo, "127.0.0.1", port, reuse_port=True)
            assert second.sockets[0].getsockname()[1] == port
            assert await self.echo_once(port) == b"ping"
            with pytest.raises(OSError):
                await self.loop.create_server(Echo, "127.0.0.1", port, reuse_port=False)
            for server in (first, second):
                server.close()
                await server.wait_closed()

        self.run(main())

    def test_close_with_live_connections(self):
        async def main():
            server = await self.loop.create_server(Echo, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"before")
            assert await reader.readexactly(6) == b"before"
            server.close()
            await server.wait_closed()
            assert not server.is_serving()
            # Closing the server stops accepting; the live connection goes on.
            writer.write(b"after")
            assert await reader.readexactly(5) == b"after"
            with pytest.raises(OSError):
                await self.echo_once(port)
            writer.close()
            await writer.wait_closed()

        self.run(main())

    def test_serve_forever_cancelled_closes_the_server(self):
        async def main():
            server = await self.loop.create_server(Echo, "127.0.0.1", 0, start_serving=False)
            port = server.sockets[0].getsockname()[1]
            task = asyncio.ensure_future(server.serve_forever())
            await asyncio.sleep(0.01)
            assert server.is_serving()
            assert await self.echo_once(port) == b"ping"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not server.is_serving()
            await server.wait_closed()

        self.run(main())

    def test_connection_refused(self):
        async def main():
            with socket.socket() as unused:
                unused.bind(("127.0.0.1", 0))
                port = unused.getsockname()[1]
            before = open_fds()
            with pytest.raises(ConnectionRefusedError):
                await self.loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection("127.0.0.1", port)
            assert open_fds() == before

        self.run(main())

    def test_cancel_create_connection_mid_way(self):
        async def main():
            # A listener whose accept queue is full: further connects wait in
            # SYN retries until cancelled.
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            port = listener.getsockname()[1]
            fillers = []
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                try:
                    filler.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
                fillers.append(filler)
            before = open_fds()
            task = asyncio.ensure_future(
                self.loop.create_connection(asyncio.Protocol, "127.0.0.1", port))
            await asyncio.sleep(0.1)
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert open_fds() == before
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 0.1)
            assert open_fds() == before
            for filler in fillers:
                filler.close()
            listener.close()

        self.run(main())

    def test_local_addr(self):
        async def main():
            server = await self.loop.create_server(Echo, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                local_port = probe.getsockname()[1]
            transport, _ = await self.loop.create_connection(
                asyncio.Protocol, "127.0.0.1", port, local_addr=("127.0.0.1", local_port))
            assert transport.get_extra_info("sockname") == ("127.0.0.1", local_port)
            transport.close()
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_happy_eyeballs_and_interleave(self):
        async def main():
            server = await self.loop.create_server(Echo, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            transport, _ = await self.loop.create_connection(
                asyncio.Protocol, "localhost", port, family=socket.AF_INET,
                happy_eyeballs_delay=0.05, interleave=2)
            assert transport.get_extra_info("peername") == ("127.0.0.1", port)
            transport.close()
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_connection_through_sock(self):
        async def main():
            server = await self.loop.create_server(Echo, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            sock = socket.create_connection(("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(b"via sock")
            assert await reader.readexactly(8) == b"via sock"
            writer.close()
            await writer.wait_closed()
            assert sock.fileno() == -1
            server.close()
            await server.wait_closed()

        self.run(main())

    def test_connect_accepted_socket(self):
        async def main():
            ours, theirs = socket.socketpair()
            theirs.setblocking(False)
            transport, protocol = await self.loop.connect_accepted_socket(Echo, ours)
            await self.loop.sock_sendall(theirs, b"accepted")
            got = b""
            while len(got) < 8:
                got += await self.loop.sock_recv(theirs, 100)
            assert got == b"accepted"
            transport.close()
            assert await self.loop.sock_recv(theirs, 100) == b""
            theirs.close()

        self.run(main())

    def test_unix_echo(self):
        async def main():
            with tempfile.TemporaryDirectory() as directory:
                path = os.path.join(directory, "echo.sock")
                server = await self.loop.create_unix_server(Echo, path)
                assert server.sockets[0].getsockname() == path
                reader, writer = await asyncio.open_unix_connection(path)
                assert writer.get_extra_info("peername") == path
                writer.write(b"unix")
                assert await reader.readexactly(4) == b"unix"
                writer.close()
                await writer.wait_closed()
                server.close()
                await server.wait_closed()
                with pytest.raises(OSError):
                    await asyncio.open_unix_connection(path)

        self.run(main())

    def test_bad_arguments_raise_asyncio_s_exceptions(self):
        async def main():
            with socket.socket() as sock, socket.socket(type=socket.SOCK_DGRAM) as dgram:
                cases = [
                    (ValueError, self.loop.create_connection(asyncio.Protocol, "127.0.0.1", 1,
                                                             sock=sock)),
                    (ValueError, self.loop.create_connection(asyncio.Protocol)),
                    (ValueError, self.loop.create_connection(asyncio.Protocol, "127.0.0.1", 1,
                                                             server_hostname="x")),
                    (ValueError, self.loop.create_connection(asyncio.Protocol, "127.0.0.1", 1,
                                                             ssl_handshake_timeout=1)),
                    (ValueError, self.loop.create_connection(asyncio.Protocol, sock=dgram)),
                    (TypeError, self.loop.create_server(asyncio.Protocol, "127.0.0.1", 0,
                                                        ssl=True)),
                    (ValueError, self.loop.create_server(asyncio.Protocol, "127.0.0.1", 0,
                                                         sock=sock)),
                    (ValueError, self.loop.create_server(asyncio.Protocol)),
                    (ValueError, self.loop.create_server(asyncio.Protocol, sock=dgram)),
                    (ValueError, self.loop.create_unix_connection(asyncio.Protocol)),
                    (ValueError, self.loop.connect_accepted_socket(asyncio.Protocol, dgram)),
                    (OSError, self.loop.create_connection(asyncio.Protocol,
                                                          "no-such-host.invalid", 1)),
                ]
                for expected, coro in cases:
                    with pytest.raises(expected):
                        await coro

        self.run(main())


class TestWeftServers(ServerCases, WeftLoop):
    pass


class TestAsyncioServers(ServerCases, AsyncioLoop):
    pass
