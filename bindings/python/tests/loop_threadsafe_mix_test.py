"""call_soon_threadsafe ping-pong with other threads while the loop also
runs timers, a reader, executor work and plain callbacks, against weft's
loop and asyncio's (see loop_twins.py). weft releases the GIL right after
a batch of thread-safe posts that left nothing to run (native/
loop_dispatch.c, inbox_cb); every kind of callback that runs next must take
it back, and nothing may be lost or run twice."""
import asyncio
import queue
import socket
import threading

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

ROUND_TRIPS = 300


class ThreadsafeMixCases(LoopCase):
    def ping_pong(self, round_trips, replies, finished, failures):
        try:
            for i in range(1, round_trips + 1):
                self.loop.call_soon_threadsafe(self.on_ping, replies, i)
                if replies.get(timeout=10) != i:
                    raise AssertionError("reply out of order")
        except BaseException as e:
            failures.append(e)
        self.loop.call_soon_threadsafe(finished.set_result, None)

    def on_ping(self, replies, i):
        replies.put(i)

    def test_ping_pong_alone_then_stop_from_a_thread(self):
        replies = queue.SimpleQueue()
        finished = self.loop.create_future()
        failures = []
        thread = threading.Thread(target=self.ping_pong,
                                  args=(ROUND_TRIPS, replies, finished, failures))
        thread.start()
        self.loop.run_until_complete(asyncio.wait_for(finished, 30))
        thread.join(10)
        assert not failures
        # A stop posted from a thread after the loop went idle.
        stopper = threading.Timer(0.02, self.loop.call_soon_threadsafe, args=(self.loop.stop,))
        stopper.start()
        self.loop.run_forever()
        stopper.join(10)
        assert not self.loop.is_running()

    def test_ping_pong_with_timers_reader_executor_and_callbacks(self):
        replies = queue.SimpleQueue()
        finished = self.loop.create_future()
        failures = []
        counts = {"timer": 0, "read": 0, "soon": 0, "work": 0}
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        stop_writing = threading.Event()

        def on_timer():
            counts["timer"] += 1
            if not finished.done():
                self.loop.call_later(0.001, on_timer)

        def on_readable():
            data = reader.recv(4096)
            counts["read"] += len(data)

        def on_soon():
            counts["soon"] += 1
            if counts["soon"] < 2000 and not finished.done():
                self.loop.call_soon(on_soon)

        def write_bytes():
            sent = 0
            while sent < 200 and not stop_writing.wait(0.002):
                writer.send(b"x")
                sent += 1
            return sent

        async def work():
            for _ in range(100):
                counts["work"] += await self.loop.run_in_executor(None, lambda: 1)

        async def main():
            self.loop.add_reader(reader.fileno(), on_readable)
            self.loop.call_later(0.001, on_timer)
            self.loop.call_soon(on_soon)
            writer_done = self.loop.run_in_executor(None, write_bytes)
            worker = self.loop.create_task(work())
            pinger = threading.Thread(target=self.ping_pong,
                                      args=(ROUND_TRIPS, replies, finished, failures))
            pinger.start()
            try:
                await asyncio.wait_for(finished, 30)
                await asyncio.wait_for(worker, 30)
            finally:
                stop_writing.set()
                sent = await asyncio.wait_for(writer_done, 30)
                pinger.join(10)
            for _ in range(500):  # what was written and not read yet
                if counts["read"] >= sent:
                    break
                await asyncio.sleep(0.002)
            self.loop.remove_reader(reader.fileno())
            return sent

        try:
            sent = self.loop.run_until_complete(main())
        finally:
            reader.close()
            writer.close()
        assert not failures
        assert counts["read"] == sent
        assert counts["work"] == 100
        assert counts["timer"] > 0 and counts["soon"] > 0

    def test_several_threads_posting_at_once(self):
        total = 4 * 500
        seen = []
        done = self.loop.create_future()

        def record(tag):
            seen.append(tag)
            if len(seen) == total:
                done.set_result(None)

        def post(t):
            for i in range(500):
                self.loop.call_soon_threadsafe(record, (t, i))

        threads = [threading.Thread(target=post, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        self.loop.run_until_complete(asyncio.wait_for(done, 30))
        for t in threads:
            t.join(10)
        assert sorted(seen) == [(t, i) for t in range(4) for i in range(500)]
        for t in range(4):
            assert [i for (u, i) in seen if u == t] == list(range(500))


class TestWeftThreadsafeMix(ThreadsafeMixCases, WeftLoop):
    pass


class TestAsyncioThreadsafeMix(ThreadsafeMixCases, AsyncioLoop):
    pass
