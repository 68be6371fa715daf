"""TLS on the loop's transports (asyncio's TLS protocol over them), on
weft's loop and asyncio's: an echo through asyncio streams with a
certificate made at test time (openssl), verified by the client with SNI;
a refused certificate; start_tls upgrading a plain connection. Loopback
only; every wait is bounded."""
import asyncio
import ssl

import pytest

from helpers.certificates import localhost_certificate
from loop_twins import AsyncioLoop, LoopCase, WeftLoop

TIMEOUT = 20


@pytest.fixture(scope="module")
def certificate():
    with localhost_certificate() as paths:
        yield paths


class TlsCases(LoopCase):
    def run(self, coro):
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    @pytest.fixture(autouse=True)
    def contexts(self, certificate):
        cert, key = certificate
        self.server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_context.load_cert_chain(cert, key)
        self.client_context = ssl.create_default_context(cafile=cert)

    def test_echo_over_tls(self):
        names = []

        self.server_context.sni_callback = lambda sslobj, name, context: names.append(name)

        async def handle(reader, writer):
            while chunk := await reader.read(1 << 16):
                writer.write(chunk)
                await writer.drain()
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=self.server_context)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=self.client_context, server_hostname="localhost")
            assert writer.get_extra_info("peercert")["subject"] == ((("commonName", "localhost"),),)
            assert writer.get_extra_info("cipher") is not None
            payload = bytes(range(256)) * (1 << 12)  # 1 MiB
            writer.write(payload)
            assert await reader.readexactly(len(payload)) == payload
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()
            assert names == ["localhost"]

        self.run(main())

    def test_untrusted_certificate_is_refused(self):
        async def handle(reader, writer):
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=self.server_context)
            port = server.sockets[0].getsockname()[1]
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.open_connection("127.0.0.1", port,
                                              ssl=ssl.create_default_context(),
                                              server_hostname="localhost")
            server.close()
            await server.wait_closed()

        self.loop.set_exception_handler(lambda loop, context: None)
        self.run(main())

    def test_start_tls_upgrades_a_connection(self):
        async def handle(reader, writer):
            assert await reader.readline() == b"STARTTLS\n"
            writer.write(b"GO\n")
            await writer.drain()
            await writer.start_tls(self.server_context)
            line = await reader.readline()
            writer.write(line.upper())
            await writer.drain()
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"STARTTLS\n")
            assert await reader.readline() == b"GO\n"
            await writer.start_tls(self.client_context, server_hostname="localhost")
            assert writer.get_extra_info("ssl_object") is not None
            writer.write(b"secret\n")
            assert await reader.readline() == b"SECRET\n"
            writer.close()
            server.close()
            await server.wait_closed()

        self.run(main())


class TestWeftTls(TlsCases, WeftLoop):
    pass


class TestAsyncioTls(TlsCases, AsyncioLoop):
    pass
