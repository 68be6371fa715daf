"""A TLS echo on weft's event loop with a certificate made when the program
starts: the openssl command line makes a self-signed certificate for
"localhost" (and 127.0.0.1) in a temporary directory; asyncio.start_server
with an SSLContext serves TLS on 127.0.0.1; clients (asyncio.open_connection
with ssl=) verify the server against that certificate and its host name,
echo lines and 256 KiB, and read the TLS details from the transport. A client
that does not trust the certificate, and one that expects another host name,
are refused by verification.

    bazel run //examples/python:echo_tls

Runs on the loop's thread; the certificate's directory is this program's and
is removed at the end.
"""
import asyncio
import os
import ssl
import subprocess
import tempfile

import weft

CLIENTS = 5


def make_certificate(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


async def echo(reader, writer):
    assert isinstance(asyncio.get_running_loop(), weft.Loop)
    while chunk := await reader.read(65536):
        writer.write(chunk)
        await writer.drain()
    writer.close()


async def client(port, context, number):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                   server_hostname="localhost")
    lines_ok = True
    for line in range(20):
        message = f"client {number} line {line}\n".encode()
        writer.write(message)
        lines_ok &= await reader.readexactly(len(message)) == message
    data = os.urandom(256 * 1024)
    writer.write(data)
    big_ok = await reader.readexactly(len(data)) == data
    subject = dict(item[0] for item in writer.get_extra_info("peercert")["subject"])
    version = writer.get_extra_info("ssl_object").version()
    writer.close()
    await writer.wait_closed()
    return lines_ok and big_ok, subject["commonName"], version


async def refused(port, context, server_hostname):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                       server_hostname=server_hostname)
    except ssl.SSLCertVerificationError as error:
        return error.verify_message
    writer.close()
    return "connected"


async def main():
    print("loop:", type(asyncio.get_running_loop()).__module__)
    with tempfile.TemporaryDirectory(prefix="weft-tls-") as directory:
        cert, key = make_certificate(directory)
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert, key)
        client_context = ssl.create_default_context(cafile=cert)

        server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        async with server:
            results = await asyncio.gather(*(client(port, client_context, n)
                                             for n in range(CLIENTS)))
            print(f"{CLIENTS} TLS clients at once: all echoes whole: "
                  f"{all(ok for ok, _, _ in results)}; server certificate for "
                  f"{sorted({name for _, name, _ in results})}; "
                  f"versions {sorted({version for _, _, version in results})}")
            print("a client without the certificate:",
                  await refused(port, ssl.create_default_context(), "localhost"))
            print("a client expecting another name:",
                  await refused(port, client_context, "example.org"))
        await server.wait_closed()
    print("server closed:", not server.is_serving())


if __name__ == "__main__":
    weft.run(main())
