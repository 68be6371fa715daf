"""When a task waiting in a weft.streams read runs, on weft's loop: after a
read of 4 KiB or more, at once, from the transport's read callback, before
the loop delivers the next connection's bytes of the same round of I/O
(native/stream_read.c, run_woken_now); after a smaller read, in the batch
that follows the round, once every connection's bytes are delivered. Two
connections get their bytes in one round (sent while the loop is busy); what
the handler whose read returns first sees in the other connection's reader
shows the order. Either way each handler gets all its bytes; closing the
connection from the step the read callback ran, and ending run_until_complete's
coroutine there, are safe."""
import asyncio
import socket

import weft

from loop_twins import WeftLoop
from streams_twins import StreamsCase, WeftStreams


class TestWhenTheWokenTaskRuns(StreamsCase, WeftStreams, WeftLoop):
    def first_read(self, size):
        """(bytes the first read returned, bytes the other reader held then)
        for `size` bytes reaching both connections in one round of I/O."""
        async def main():
            readers = []
            waiting = self.loop.create_future()
            seen = []

            async def handle(reader, writer):
                me = len(readers)
                readers.append(reader)
                if len(readers) == 2:
                    waiting.set_result(None)
                # Suspended here before the test's coroutine resumes.
                data = await reader.read(65536)
                seen.append((len(data), len(readers[1 - me]._buffer)))
                while len(data) < size:
                    data += await reader.read(65536)
                writer.close()
                await writer.wait_closed()

            server = await weft.start_server(handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
            try:
                await waiting
                payload = b"x" * size
                # Both sends land before the loop polls again.
                for client in clients:
                    client.sendall(payload)
                while len(seen) < 2:
                    await asyncio.sleep(0.005)
                for client in clients:
                    client.settimeout(10)
                    assert client.recv(1) == b""  # the handler closed it
            finally:
                for client in clients:
                    client.close()
                server.close()
                await server.wait_closed()
            return seen[0]

        return self.run(main())

    def test_a_large_read_runs_its_task_before_the_next_delivery(self):
        assert self.first_read(16 * 1024) == (16 * 1024, 0)

    def test_a_small_read_wakes_its_task_for_the_batch_after_the_round(self):
        assert self.first_read(64) == (64, 64)

    def test_run_until_complete_ends_in_a_step_a_large_read_ran(self):
        # The read callback runs the task's last step, whose end stops the
        # loop; the loop then runs again, with the connection still usable.
        async def serve(reader, writer):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.close()

        server = self.run(weft.start_server(serve, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        reader, writer = self.run(weft.open_connection("127.0.0.1", port))
        payload = bytes(range(256)) * 64

        async def round_trip():
            writer.write(payload)
            return await reader.readexactly(len(payload))

        for _ in range(3):
            assert self.loop.run_until_complete(round_trip()) == payload
        writer.close()
        self.run(writer.wait_closed())
        server.close()
        self.run(server.wait_closed())
