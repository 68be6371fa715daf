"""A UDP echo on weft's event loop: a server endpoint
(loop.create_datagram_endpoint with local_addr) sends each datagram back to
its sender; a client endpoint connected to it (remote_addr) sends 100
numbered datagrams of different sizes, at most 10 unanswered at a time, and
checks that each comes back unchanged (UDP may drop a datagram: the client
sends an unanswered one again, at most 5 times). A datagram of 60,000 bytes goes both ways whole.

    bazel run //examples/python:echo_udp

Runs on the loop's thread; the endpoints are this program's.
"""
import asyncio

import weft

DATAGRAMS = 100
WINDOW = 10


class EchoServer(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        assert isinstance(asyncio.get_running_loop(), weft.Loop)
        self.transport.sendto(data, addr)


class Client(asyncio.DatagramProtocol):
    def __init__(self):
        self.waiting = {}  # a datagram's first 8 bytes (its number) -> future for its echo

    def datagram_received(self, data, addr):
        future = self.waiting.pop(data[:8], None)
        if future is not None and not future.done():
            future.set_result(data)

    def error_received(self, exc):
        print("client: error received:", exc)


async def echo_once(transport, protocol, data):
    """Sends data until its echo comes back; returns (sends, the echo)."""
    for attempt in range(1, 6):
        future = asyncio.get_running_loop().create_future()
        protocol.waiting[data[:8]] = future
        transport.sendto(data)
        try:
            return attempt, await asyncio.wait_for(future, 1.0)
        except asyncio.TimeoutError:
            continue
    raise RuntimeError(f"no echo for {data[:20]!r} after 5 sends")


async def main():
    loop = asyncio.get_running_loop()
    print("loop:", type(loop).__module__)
    server, _ = await loop.create_datagram_endpoint(EchoServer, local_addr=("127.0.0.1", 0))
    address = server.get_extra_info("sockname")
    client, protocol = await loop.create_datagram_endpoint(Client, remote_addr=address)
    try:
        window = asyncio.Semaphore(WINDOW)

        async def numbered(number):
            data = number.to_bytes(8, "big") + f"datagram {number}".encode() * (number + 1)
            async with window:
                sends, echo = await echo_once(client, protocol, data)
            return sends, echo == data

        results = await asyncio.gather(*(numbered(n) for n in range(DATAGRAMS)))
        print(f"{DATAGRAMS} datagrams echoed, each unchanged: {all(same for _, same in results)} "
              f"(sent again: {sum(sends for sends, _ in results) - DATAGRAMS})")
        big = DATAGRAMS.to_bytes(8, "big") + (bytes(range(256)) * 235)[:60000 - 8]
        _, echo = await echo_once(client, protocol, big)
        print(f"one datagram of {len(big)} bytes echoed whole: {echo == big}")
        print("client socket is a TransportSocket:",
              isinstance(client.get_extra_info("socket"), asyncio.trsock.TransportSocket))
    finally:
        client.close()
        server.close()


if __name__ == "__main__":
    weft.run(main())
