"""The loop's sock_* functions on non-blocking sockets, on weft's loop and
asyncio's: connect/accept/sendall/recv/recv_into, datagrams
(sendto/recvfrom/recvfrom_into), a large sendall against a concurrent
reader, cancellation part-way (nothing consumed, the wait removed), refused
connects, and what asyncio refuses. Loopback only; every wait is
bounded."""
import asyncio
import socket

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

TIMEOUT = 20


def nonblocking(sock):
    sock.setblocking(False)
    return sock


class SocketCases(LoopCase):
    def setup_method(self, method):
        super().setup_method(method)
        self.sockets = []

    def teardown_method(self, method):
        for sock in self.sockets:
            sock.close()
        super().teardown_method(method)

    def keep(self, sock):
        self.sockets.append(sock)
        return sock

    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    def listener(self):
        sock = self.keep(nonblocking(socket.socket()))
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        return sock

    async def connected_pair(self):
        listener = self.listener()
        client = self.keep(nonblocking(socket.socket()))
        accept = asyncio.ensure_future(self.loop.sock_accept(listener))
        await self.loop.sock_connect(client, listener.getsockname())
        server, address = await accept
        self.keep(server)
        assert address == client.getsockname()
        assert server.gettimeout() == 0  # accepted sockets are non-blocking
        return client, server

    def test_connect_accept_send_and_receive(self):
        async def main():
            client, server = await self.connected_pair()
            await self.loop.sock_sendall(client, b"hello")
            assert await self.loop.sock_recv(server, 5) == b"hello"
            buffer = bytearray(10)
            receiving = asyncio.ensure_future(self.loop.sock_recv_into(client, buffer))
            await asyncio.sleep(0.01)
            assert not receiving.done()  # waits for the bytes
            await self.loop.sock_sendall(server, b"back")
            assert await receiving == 4
            assert buffer[:4] == b"back"
            server.shutdown(socket.SHUT_WR)
            assert await self.loop.sock_recv(client, 10) == b""

        self.run(main())

    def test_large_sendall_with_a_concurrent_reader(self):
        async def main():
            client, server = await self.connected_pair()
            payload = bytes(range(256)) * (16 << 12)  # 16 MiB

            async def receive_all():
                got = bytearray()
                while len(got) < len(payload):
                    chunk = await self.loop.sock_recv(server, 1 << 16)
                    assert chunk
                    got += chunk
                return bytes(got)

            receiving = asyncio.ensure_future(receive_all())
            assert await self.loop.sock_sendall(client, payload) is None
            assert await receiving == payload

        self.run(main())

    def test_datagrams(self):
        async def main():
            a = self.keep(nonblocking(socket.socket(type=socket.SOCK_DGRAM)))
            b = self.keep(nonblocking(socket.socket(type=socket.SOCK_DGRAM)))
            a.bind(("127.0.0.1", 0))
            b.bind(("127.0.0.1", 0))
            receiving = asyncio.ensure_future(self.loop.sock_recvfrom(b, 100))
            await asyncio.sleep(0.01)
            assert not receiving.done()
            assert await self.loop.sock_sendto(a, b"one", b.getsockname()) == 3
            assert await receiving == (b"one", a.getsockname())
            await self.loop.sock_sendto(a, b"two!", b.getsockname())
            buffer = bytearray(10)
            assert await self.loop.sock_recvfrom_into(b, buffer) == (4, a.getsockname())
            assert buffer[:4] == b"two!"
            await self.loop.sock_sendto(a, b"three", b.getsockname())
            assert await self.loop.sock_recvfrom_into(b, buffer, 2) == (2, a.getsockname())
            assert buffer[:2] == b"th"

        self.run(main())

    def test_cancelled_recv_consumes_nothing(self):
        async def main():
            client, server = await self.connected_pair()
            receiving = asyncio.ensure_future(self.loop.sock_recv(server, 100))
            await asyncio.sleep(0.01)
            receiving.cancel()
            with pytest.raises(asyncio.CancelledError):
                await receiving
            # The wait is gone: the descriptor can be waited on afresh.
            assert self.loop.remove_reader(server) is False
            await self.loop.sock_sendall(client, b"kept")
            await asyncio.sleep(0.01)
            assert await self.loop.sock_recv(server, 100) == b"kept"

        self.run(main())

    def test_cancelled_accept_and_connect(self):
        async def main():
            listener = self.listener()
            accepting = asyncio.ensure_future(self.loop.sock_accept(listener))
            await asyncio.sleep(0.01)
            accepting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await accepting
            assert self.loop.remove_reader(listener) is False
            client, server = await self.connected_pair()
            assert client.getpeername() == server.getsockname()

            # A connect that cannot complete (full accept queue), cancelled.
            full = self.keep(nonblocking(socket.socket()))
            full.bind(("127.0.0.1", 0))
            full.listen(0)
            for _ in range(8):
                filler = self.keep(nonblocking(socket.socket()))
                try:
                    filler.connect(full.getsockname())
                except BlockingIOError:
                    pass
            waiting = self.keep(nonblocking(socket.socket()))
            connecting = asyncio.ensure_future(self.loop.sock_connect(waiting,
                                                                      full.getsockname()))
            await asyncio.sleep(0.1)
            assert not connecting.done()
            connecting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await connecting
            assert self.loop.remove_writer(waiting) is False

        self.run(main())

    def test_cancelled_sendall_stops_sending(self):
        async def main():
            client, server = await self.connected_pair()
            sending = asyncio.ensure_future(self.loop.sock_sendall(client, b"x" * (64 << 20)))
            await asyncio.sleep(0.05)
            assert not sending.done()  # nobody reads: the kernel's buffers are full
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
            assert self.loop.remove_writer(client) is False

        self.run(main())

    def test_refused_connect(self):
        async def main():
            with socket.socket() as unused:
                unused.bind(("127.0.0.1", 0))
                address = unused.getsockname()
            sock = self.keep(nonblocking(socket.socket()))
            with pytest.raises(ConnectionRefusedError):
                await self.loop.sock_connect(sock, address)

        self.run(main())

    def test_connect_resolves_names(self):
        async def main():
            listener = self.listener()
            port = listener.getsockname()[1]
            sock = self.keep(nonblocking(socket.socket()))
            await self.loop.sock_connect(sock, ("localhost", port))
            assert sock.getpeername() == ("127.0.0.1", port)

        self.run(main())

    def test_blocking_socket_refused_in_debug_mode(self):
        self.loop.set_debug(True)

        async def main():
            sock = self.keep(socket.socket())
            with pytest.raises(ValueError):
                await self.loop.sock_recv(sock, 1)
            with pytest.raises(ValueError):
                await self.loop.sock_sendall(sock, b"x")
            with pytest.raises(ValueError):
                await self.loop.sock_accept(sock)

        self.run(main())


class TestWeftSockets(SocketCases, WeftLoop):
    pass


class TestAsyncioSockets(SocketCases, AsyncioLoop):
    pass
