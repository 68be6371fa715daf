"""An echo server on a Unix socket on weft's event loop:
asyncio.start_unix_server on a path in a temporary directory echoes what it
reads; 10 clients at once (asyncio.open_unix_connection) each send 64 KiB in
chunks with write_eof() and read it all back; the server knows the clients
by the socket's path. Then the server closes and the directory is removed.

    bazel run //examples/python:echo_unix

Runs on the loop's thread; the socket file is in a directory this program
creates and removes.
"""
import asyncio
import os
import tempfile

import weft

CLIENTS = 10
SIZE = 64 * 1024


async def echo(reader, writer):
    assert isinstance(asyncio.get_running_loop(), weft.Loop)
    while chunk := await reader.read(4096):
        writer.write(chunk)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(path, number):
    reader, writer = await asyncio.open_unix_connection(path)
    data = bytes([number]) * SIZE
    for start in range(0, SIZE, 1000):
        writer.write(data[start:start + 1000])
    await writer.drain()
    writer.write_eof()
    received = await reader.read()
    peer = writer.get_extra_info("peername")
    writer.close()
    await writer.wait_closed()
    return received == data, peer == path


async def main():
    print("loop:", type(asyncio.get_running_loop()).__module__)
    with tempfile.TemporaryDirectory(prefix="weft-echo-") as directory:
        path = os.path.join(directory, "echo.sock")
        server = await asyncio.start_unix_server(echo, path)
        async with server:
            results = await asyncio.gather(*(client(path, n) for n in range(CLIENTS)))
            print(f"{CLIENTS} clients at once: each got its {SIZE} bytes back: "
                  f"{all(same for same, _ in results)}; "
                  f"connected to the socket's path: {all(peer for _, peer in results)}")
        await server.wait_closed()
    print("server closed:", not server.is_serving())


if __name__ == "__main__":
    weft.run(main())
