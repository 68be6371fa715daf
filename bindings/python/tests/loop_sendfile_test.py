"""loop.sendfile and loop.sock_sendfile on weft's loop and asyncio's (twin
classes): a 16 MiB file through a TCP transport and a socket, offset and
count, bytes written before and after, write() refused during the transfer,
the fallback (a file object without a descriptor, a TLS transport) and
fallback=False, bad arguments refused with nothing consumed, a peer closing
mid-transfer, and a cancellation mid-transfer that leaves the transport
usable with the file's position at what went out. Loopback only; every wait
is bounded."""
import asyncio
import hashlib
import io
import os
import socket
import ssl
import subprocess

import pytest

import weft
from loop_twins import AsyncioLoop, LoopCase, WeftLoop

TIMEOUT = 60
BIG = 16 * 1024 * 1024


def _pattern(size):
    block = bytes(range(256)) * 4096  # 1 MiB
    data = (block * (size // len(block) + 1))[:size]
    return data


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sendfile") / "big.bin"
    data = _pattern(BIG - 3)  # not a multiple of any buffer size
    path.write_bytes(data)
    return path, data


@pytest.fixture(scope="module")
def tls_contexts(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cert)
    return server, client


class Collector(asyncio.Protocol):
    """The receiving end: keeps every byte; `done` resolves at the end of
    the connection. Starts paused when asked (a slow reader)."""

    def __init__(self, loop, paused=False, close_after=None):
        self.data = bytearray()
        self.done = loop.create_future()
        self.paused = paused
        self.close_after = close_after
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        if self.paused:
            transport.pause_reading()

    def data_received(self, data):
        self.data += data
        if self.close_after is not None and len(self.data) >= self.close_after:
            self.transport.close()

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(exc)


class Sender(asyncio.Protocol):
    def __init__(self, loop):
        self.lost = loop.create_future()
        self.paused = 0
        self.resumed = 0

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        pass

    def pause_writing(self):
        self.paused += 1

    def resume_writing(self):
        self.resumed += 1

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(exc)


class SendfileCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    async def pair(self, collector, ssl_pair=None, small_buffers=False):
        """A connected (client transport, client protocol) whose peer is
        `collector`, served on 127.0.0.1."""
        server_ssl, client_ssl = ssl_pair or (None, None)
        server = await self.loop.create_server(lambda: collector, "127.0.0.1", 0,
                                               ssl=server_ssl)
        self.servers.append(server)
        port = server.sockets[0].getsockname()[1]
        sender = Sender(self.loop)
        transport, _ = await self.loop.create_connection(
            lambda: sender, "127.0.0.1", port, ssl=client_ssl,
            server_hostname="localhost" if client_ssl else None)
        if small_buffers:
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        return transport, sender

    def setup_method(self, method):
        super().setup_method(method)
        self.servers = []

    def teardown_method(self, method):
        for server in self.servers:
            server.close()
            self.run(server.wait_closed())
        super().teardown_method(method)

    async def finish(self, transport, collector):
        transport.close()
        await collector.done
        return bytes(collector.data)

    # -- transports ---------------------------------------------------------

    def test_16mib_file_through_a_transport(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector)
            with open(path, "rb") as f:
                sent = await self.loop.sendfile(transport, f)
                position = f.tell()
            return sent, position, await self.finish(transport, collector)

        sent, position, received = self.run(main())
        assert sent == len(data)
        assert position == len(data)
        assert hashlib.sha256(received).digest() == hashlib.sha256(data).digest()

    def test_native_sendfile_is_used(self, big_file, monkeypatch):
        path, data = big_file
        calls = []
        real = os.sendfile

        def counting(*args):
            calls.append(args[3])
            return real(*args)

        monkeypatch.setattr(os, "sendfile", counting)

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector)
            with open(path, "rb") as f:
                sent = await self.loop.sendfile(transport, f, 0, 1 << 20)
            return sent, await self.finish(transport, collector)

        sent, received = self.run(main())
        assert sent == 1 << 20
        assert received == data[:1 << 20]
        assert calls, "os.sendfile was not called"

    def test_offset_and_count(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector)
            results = []
            with open(path, "rb") as f:
                results.append(await self.loop.sendfile(transport, f, 1000, 100))
                results.append(f.tell())
                # count past the end: up to the end of the file
                results.append(await self.loop.sendfile(transport, f, len(data) - 10, 1000))
                results.append(f.tell())
                # offset at the end: nothing to send
                results.append(await self.loop.sendfile(transport, f, len(data)))
            return results, await self.finish(transport, collector)

        results, received = self.run(main())
        assert results == [100, 1100, 10, len(data), 0]
        assert received == data[1000:1100] + data[-10:]

    def test_bytes_before_and_after_stay_in_order(self, big_file):
        path, data = big_file
        before = b"B" * (3 * 1024 * 1024)  # more than the socket takes at once

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector, small_buffers=True)
            transport.write(before)
            with open(path, "rb") as f:
                sent = await self.loop.sendfile(transport, f, 0, 5 * 1024 * 1024)
            transport.write(b"after")
            return sent, await self.finish(transport, collector)

        sent, received = self.run(main())
        assert sent == 5 * 1024 * 1024
        assert received == before + data[:sent] + b"after"

    def test_write_during_sendfile_is_refused(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector)
            with open(path, "rb") as f:
                task = self.loop.create_task(self.loop.sendfile(transport, f))
                await asyncio.sleep(0)
                with pytest.raises(RuntimeError, match="sendfile is in progress"):
                    transport.write(b"x")
                sent = await task
            transport.write(b"tail")
            return sent, await self.finish(transport, collector)

        sent, received = self.run(main())
        assert sent == len(data)
        assert received == data + b"tail"

    def test_cancelled_mid_transfer_leaves_the_transport_usable(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop, paused=True)
            transport, sender = await self.pair(collector, small_buffers=True)
            with open(path, "rb") as f:
                task = self.loop.create_task(self.loop.sendfile(transport, f))
                for _ in range(200):
                    await asyncio.sleep(0.005)
                    if f.tell() or os.lseek(f.fileno(), 0, os.SEEK_CUR):
                        break
                await asyncio.sleep(0.05)
                assert not task.done()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                position = f.tell()
            assert not transport.is_closing()
            transport.write(b"after cancel")
            collector.transport.resume_reading()
            received = await self.finish(transport, collector)
            return position, received

        position, received = self.run(main())
        suffix = b"after cancel"
        went_out = len(received) - len(suffix)
        assert 0 < went_out < len(data)
        assert received == data[:went_out] + suffix
        if self.is_weft:
            # The file's position says how far it got. (asyncio 3.11 leaves
            # it where it was: its cancellation removes the writer whose
            # next call would have moved it.)
            assert position == went_out

    def test_peer_closing_mid_transfer(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop, close_after=1024)
            transport, sender = await self.pair(collector, small_buffers=True)
            with open(path, "rb") as f:
                with pytest.raises(ConnectionError):
                    await self.loop.sendfile(transport, f)
                position = f.tell()
            await collector.done
            await asyncio.wait_for(sender.lost, TIMEOUT)
            return position, len(collector.data), transport.is_closing()

        position, received, closing = self.run(main())
        assert 1024 <= received < len(data)
        assert 1024 <= position < len(data)
        assert closing

    def test_fallback_for_a_file_without_descriptor(self, big_file):
        path, data = big_file
        part = data[:3 * 1024 * 1024 + 5]

        async def main():
            collector = Collector(self.loop)
            transport, sender = await self.pair(collector, small_buffers=True)
            source = io.BytesIO(part)
            with pytest.raises(asyncio.SendfileNotAvailableError):
                await self.loop.sendfile(transport, source, fallback=False)
            assert source.tell() == 0
            sent = await self.loop.sendfile(transport, source, 7)
            position = source.tell()
            transport.write(b"end")
            return sent, position, await self.finish(transport, collector)

        sent, position, received = self.run(main())
        assert sent == len(part) - 7
        assert position == len(part)
        assert received == part[7:] + b"end"

    def test_fallback_on_tls(self, big_file, tls_contexts):
        path, data = big_file
        size = 2 * 1024 * 1024 + 1

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector, ssl_pair=tls_contexts)
            with open(path, "rb") as f:
                with pytest.raises(RuntimeError, match="fallback is disabled"):
                    await self.loop.sendfile(transport, f, fallback=False)
                assert f.tell() == 0
                sent = await self.loop.sendfile(transport, f, 10, size)
                position = f.tell()
            transport.write(b"end")
            return sent, position, await self.finish(transport, collector)

        sent, position, received = self.run(main())
        assert sent == size
        assert position == 10 + size
        assert received == data[10:10 + size] + b"end"

    def test_bad_arguments_are_refused_and_nothing_is_sent(self, big_file, tmp_path):
        path, data = big_file
        text = tmp_path / "text.txt"
        text.write_text("hello")

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector)
            with open(path, "rb") as f:
                for offset, count, error in ((-1, None, ValueError), ("0", None, TypeError),
                                             (0, 0, ValueError), (0, -5, ValueError),
                                             (0, 1.5, TypeError)):
                    with pytest.raises(error):
                        await self.loop.sendfile(transport, f, offset, count)
                    assert f.tell() == 0
            with open(text, "r") as t:
                with pytest.raises(ValueError, match="binary mode"):
                    await self.loop.sendfile(transport, t)
            transport.write(b"still works")
            received = await self.finish(transport, collector)
            with open(path, "rb") as f:
                with pytest.raises(RuntimeError, match="closing"):
                    await self.loop.sendfile(transport, f)
            return received

        assert self.run(main()) == b"still works"

    def test_datagram_transport_is_not_supported(self, big_file):
        path, data = big_file

        async def main():
            transport, _ = await self.loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
            try:
                with open(path, "rb") as f:
                    with pytest.raises(RuntimeError, match="not supported"):
                        await self.loop.sendfile(transport, f)
                    assert f.tell() == 0
            finally:
                transport.close()

        self.run(main())

    # -- sockets ------------------------------------------------------------

    async def socket_pair(self, collector):
        server = await self.loop.create_server(lambda: collector, "127.0.0.1", 0)
        self.servers.append(server)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        await self.loop.sock_connect(sock, server.sockets[0].getsockname())
        return sock

    def test_sock_sendfile(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop)
            sock = await self.socket_pair(collector)
            try:
                await self.loop.sock_sendall(sock, b"head")
                with open(path, "rb") as f:
                    whole = await self.loop.sock_sendfile(sock, f)
                    after_whole = f.tell()
                    part = await self.loop.sock_sendfile(sock, f, 500, 1500)
                    after_part = f.tell()
                await self.loop.sock_sendall(sock, b"tail")
            finally:
                sock.close()
            await collector.done
            return whole, after_whole, part, after_part, bytes(collector.data)

        whole, after_whole, part, after_part, received = self.run(main())
        assert (whole, after_whole, part, after_part) == (len(data), len(data), 1500, 2000)
        assert hashlib.sha256(received).digest() == hashlib.sha256(
            b"head" + data + data[500:2000] + b"tail").digest()

    def test_sock_sendfile_fallback_and_errors(self):
        part = _pattern(300 * 1024 + 1)

        async def main():
            collector = Collector(self.loop)
            sock = await self.socket_pair(collector)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.setblocking(False)
            try:
                source = io.BytesIO(part)
                with pytest.raises(asyncio.SendfileNotAvailableError):
                    await self.loop.sock_sendfile(sock, source, fallback=False)
                with pytest.raises(ValueError, match="SOCK_STREAM"):
                    await self.loop.sock_sendfile(udp, source)
                with pytest.raises(ValueError):
                    await self.loop.sock_sendfile(sock, source, -1)
                with pytest.raises(TypeError):
                    await self.loop.sock_sendfile(sock, source, 0, "10")
                assert source.tell() == 0
                sent = await self.loop.sock_sendfile(sock, source, 1, 200 * 1024)
                position = source.tell()
            finally:
                sock.close()
                udp.close()
            await collector.done
            return sent, position, bytes(collector.data)

        sent, position, received = self.run(main())
        assert sent == 200 * 1024
        assert position == 1 + 200 * 1024
        assert received == part[1:1 + 200 * 1024]


class TestWeftSendfile(SendfileCases, WeftLoop):
    def test_concurrent_sendfile_on_one_transport_is_refused(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector)
            with open(path, "rb") as f, open(path, "rb") as g:
                first = self.loop.create_task(self.loop.sendfile(transport, f))
                await asyncio.sleep(0)
                with pytest.raises(RuntimeError, match="already in progress"):
                    await self.loop.sendfile(transport, g)
                assert g.tell() == 0
                sent = await first
            return sent, await self.finish(transport, collector)

        sent, received = self.run(main())
        assert sent == len(data)
        assert received == data

    def test_tls_without_fallback_raises_sendfile_not_available(self, big_file,
                                                                 tls_contexts):
        path, data = big_file

        async def main():
            collector = Collector(self.loop)
            transport, _ = await self.pair(collector, ssl_pair=tls_contexts)
            with open(path, "rb") as f:
                with pytest.raises(asyncio.SendfileNotAvailableError):
                    await self.loop.sendfile(transport, f, fallback=False)
            await self.finish(transport, collector)

        self.run(main())

    def test_transport_closed_during_sendfile_ends_it(self, big_file):
        path, data = big_file

        async def main():
            collector = Collector(self.loop, paused=True)
            transport, sender = await self.pair(collector, small_buffers=True)
            with open(path, "rb") as f:
                task = self.loop.create_task(self.loop.sendfile(transport, f))
                await asyncio.sleep(0.05)
                assert not task.done()
                transport.close()
                with pytest.raises(ConnectionError):
                    await task
                position = f.tell()
            collector.transport.resume_reading()
            await collector.done
            await sender.lost
            return position, bytes(collector.data)

        position, received = self.run(main())
        assert 0 < position < len(data)
        assert received == data[:position]


class TestAsyncioSendfile(SendfileCases, AsyncioLoop):
    pass


def test_weft_loop_has_its_own_sendfile():
    assert weft.Loop.sendfile is not asyncio.AbstractEventLoop.sendfile
    assert weft.Loop.sock_sendfile is not asyncio.AbstractEventLoop.sock_sendfile
