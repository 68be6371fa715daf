"""create_datagram_endpoint on weft's loop and asyncio's: a UDP echo on
127.0.0.1 and ::1, sendto and its checks, get_extra_info, error_received,
sock=, reuse_port, allow_broadcast, close/abort, and the arguments asyncio
refuses. Loopback only; every wait bounded."""
import asyncio
import socket
import sys

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

LIMIT = 20  # seconds, for any one wait


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data.upper(), addr)


class Client(asyncio.DatagramProtocol):
    def __init__(self, loop):
        self.received = asyncio.Queue()
        self.errors = asyncio.Queue()
        self.lost = loop.create_future()
        self.made = 0

    def connection_made(self, transport):
        self.made += 1
        self.transport = transport

    def datagram_received(self, data, addr):
        self.received.put_nowait((data, addr))

    def error_received(self, exc):
        self.errors.put_nowait(exc)

    def connection_lost(self, exc):
        self.lost.set_result(exc)


class DatagramCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, LIMIT))

    def echo_round_trips(self, host):
        async def main():
            server, _ = await self.loop.create_datagram_endpoint(Echo, local_addr=(host, 0))
            address = server.get_extra_info("sockname")[:2]
            client, proto = await self.loop.create_datagram_endpoint(
                lambda: Client(self.loop), remote_addr=address)
            # (asyncio 3.11's own datagram transport is not an instance.)
            assert isinstance(client, asyncio.DatagramTransport) or not self.is_weft
            assert client.get_extra_info("peername")[:2] == address
            replies = []
            for i in range(20):
                client.sendto(b"ping %d" % i)
                data, sender = await proto.received.get()
                replies.append(data)
                assert sender[:2] == address
            sock = client.get_extra_info("socket")
            assert isinstance(sock, asyncio.trsock.TransportSocket)
            assert sock.getsockname() == client.get_extra_info("sockname")
            client.close()
            server.close()
            assert await proto.lost is None
            return replies, proto.made

        replies, made = self.run(main())
        assert replies == [b"PING %d" % i for i in range(20)]
        assert made == 1

    def test_echo_ipv4(self):
        self.echo_round_trips("127.0.0.1")

    @pytest.mark.skipif(not has_ipv6_loopback(), reason="no ::1 on this machine")
    def test_echo_ipv6(self):
        self.echo_round_trips("::1")

    def test_unconnected_sendto_and_addresses(self):
        async def main():
            a, pa = await self.loop.create_datagram_endpoint(lambda: Client(self.loop),
                                                             local_addr=("127.0.0.1", 0))
            b, pb = await self.loop.create_datagram_endpoint(lambda: Client(self.loop),
                                                             local_addr=("127.0.0.1", 0))
            assert a.get_extra_info("peername") is None
            a.sendto(b"to b", b.get_extra_info("sockname"))
            data, sender = await pb.received.get()
            assert (data, sender) == (b"to b", a.get_extra_info("sockname"))
            b.sendto(bytearray(b"back"), sender)
            assert (await pa.received.get())[0] == b"back"
            assert a.get_write_buffer_size() == 0
            a.close()
            b.abort()
            return await pa.lost, await pb.lost

        assert self.run(main()) == (None, None)

    def test_error_received_on_a_refused_port(self):
        async def main():
            # A port nobody listens on: bind one, note it, close it.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.bind(("127.0.0.1", 0))
                address = probe.getsockname()
            transport, proto = await self.loop.create_datagram_endpoint(
                lambda: Client(self.loop), remote_addr=address)
            exc = None
            for _ in range(50):
                transport.sendto(b"anyone?")
                try:
                    exc = await asyncio.wait_for(proto.errors.get(), 0.1)
                    break
                except asyncio.TimeoutError:
                    pass
            transport.close()
            await proto.lost
            return exc

        assert isinstance(self.run(main()), ConnectionRefusedError)

    def test_sock_argument(self):
        async def main():
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            transport, proto = await self.loop.create_datagram_endpoint(
                lambda: Client(self.loop), sock=sock)
            assert transport.get_extra_info("sockname") == sock.getsockname()
            assert transport.get_extra_info("socket").fileno() == sock.fileno()
            transport.sendto(b"self", sock.getsockname())
            data = (await proto.received.get())[0]
            transport.close()
            await proto.lost
            return data, sock.fileno()

        assert self.run(main()) == (b"self", -1)  # the transport closed the socket

    def test_reuse_port_and_allow_broadcast(self):
        async def main():
            first, _ = await self.loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0), reuse_port=True)
            port = first.get_extra_info("sockname")[1]
            second, _ = await self.loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", port), reuse_port=True)
            broadcast, _ = await self.loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0), allow_broadcast=True)
            flags = (first.get_extra_info("socket").getsockopt(socket.SOL_SOCKET,
                                                                socket.SO_REUSEPORT),
                     broadcast.get_extra_info("socket").getsockopt(socket.SOL_SOCKET,
                                                                    socket.SO_BROADCAST))
            for transport in (first, second, broadcast):
                transport.close()
            await asyncio.sleep(0)
            return second.get_extra_info("sockname")[1] == port, flags

        assert self.run(main()) == (True, (1, 1))

    def test_address_in_use(self):
        async def main():
            first, _ = await self.loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
            try:
                await self.loop.create_datagram_endpoint(
                    asyncio.DatagramProtocol, local_addr=first.get_extra_info("sockname"))
            finally:
                first.close()

        with pytest.raises(OSError) as info:
            self.run(main())
        assert info.value.errno == 98  # EADDRINUSE

    def test_sendto_checks(self):
        async def main():
            server, _ = await self.loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
            client, _ = await self.loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=server.get_extra_info("sockname"))
            try:
                with pytest.raises(TypeError):
                    client.sendto("text")
                with pytest.raises(ValueError, match="Invalid address"):
                    client.sendto(b"x", ("127.0.0.1", 9))
                client.sendto(b"")  # nothing to send: no error
            finally:
                client.close()
                server.close()
            await asyncio.sleep(0)

        self.run(main())

    def test_bad_arguments(self):
        def endpoint(**kwargs):
            return self.loop.create_datagram_endpoint(asyncio.DatagramProtocol, **kwargs)

        with pytest.raises(ValueError, match="unexpected address family"):
            self.run(endpoint())
        with pytest.raises(TypeError):
            self.run(endpoint(local_addr="127.0.0.1"))
        with pytest.raises(TypeError):
            self.run(endpoint(remote_addr=("127.0.0.1", 1, 2)))
        with pytest.raises(TypeError):
            self.run(endpoint(reuse_address=True))
        with pytest.raises(socket.gaierror):
            self.run(endpoint(local_addr=("::1", 0), family=socket.AF_INET))
        with pytest.raises(ValueError, match="can not get address information"):
            self.run(endpoint(local_addr=("127.0.0.1", 0), remote_addr=("::1", 1)))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as stream:
            with pytest.raises(ValueError, match="A UDP Socket was expected"):
                self.run(endpoint(sock=stream))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dgram:
            with pytest.raises(ValueError, match="socket modifier keyword arguments"):
                self.run(endpoint(sock=dgram, local_addr=("127.0.0.1", 0)))


class TestWeftDatagram(DatagramCases, WeftLoop):
    pass


class TestAsyncioDatagram(DatagramCases, AsyncioLoop):
    pass


if __name__ == "__main__":
    sys.exit(pytest.main(["-q", sys.argv[0]]))
