"""An echo server and its clients with asyncio streams on weft's event loop:
asyncio.start_server on 127.0.0.1 (a free port) echoes each line back; 20
clients (asyncio.open_connection) at once send 50 lines each and check every
echo, and one client sends 1 MiB and reads it all back (the writer's drain()
holds it back while the server is slower). Then the server closes.

    bazel run //examples/python:echo_streams

Runs on the loop's thread; each connection's reader and writer are its
handler's or client's.
"""
import asyncio

import weft

CLIENTS = 20
LINES = 50


async def echo(reader, writer):
    assert isinstance(asyncio.get_running_loop(), weft.Loop)
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, number):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for line in range(LINES):
        message = f"client {number} line {line}\n".encode()
        writer.write(message)
        await writer.drain()
        assert await reader.readline() == message
    writer.close()
    await writer.wait_closed()
    return LINES


async def big_message(port):
    data = bytes(range(256)) * 4096  # 1 MiB
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = data.replace(b"\n", b" ") + b"\n"

    async def send():
        writer.write(sent)
        await writer.drain()
        writer.write_eof()

    sending = asyncio.create_task(send())
    received = await reader.read()
    await sending
    writer.close()
    await writer.wait_closed()
    return len(received), received == sent


async def main():
    print("loop:", type(asyncio.get_running_loop()).__module__)
    server = await asyncio.start_server(echo, "127.0.0.1", 0, limit=2 ** 21)
    port = server.sockets[0].getsockname()[1]
    async with server:
        echoed = await asyncio.gather(*(client(port, n) for n in range(CLIENTS)))
        print(f"{CLIENTS} clients at once: {sum(echoed)} lines echoed")
        size, same = await big_message(port)
        print(f"1 MiB in one line: {size} bytes back, the same: {same}")
    await server.wait_closed()
    print("server closed:", not server.is_serving())


if __name__ == "__main__":
    weft.run(main())
