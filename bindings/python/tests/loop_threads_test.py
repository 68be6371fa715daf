"""call_soon_threadsafe from other threads: ordering per thread, exactly-once
delivery under load (8 threads x 10,000 posts), waking a sleeping loop.
Each test runs against weft's loop and asyncio's default loop."""
import threading

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

THREADS = 8
POSTS_PER_THREAD = 10_000


class ThreadsafeCases(LoopCase):
    def test_posts_from_threads_are_delivered_exactly_once_in_order(self):
        seen = [[] for _ in range(THREADS)]
        total = [0]
        done = self.loop.create_future()

        def deliver(thread, i):
            seen[thread].append(i)
            total[0] += 1
            if total[0] == THREADS * POSTS_PER_THREAD:
                done.set_result(None)

        start = threading.Barrier(THREADS)

        def poster(thread):
            start.wait()
            for i in range(POSTS_PER_THREAD):
                self.loop.call_soon_threadsafe(deliver, thread, i)

        threads = [threading.Thread(target=poster, args=(t,)) for t in range(THREADS)]
        for t in threads:
            t.start()
        self.loop.run_until_complete(done)
        for t in threads:
            t.join()
        for thread in range(THREADS):
            assert seen[thread] == list(range(POSTS_PER_THREAD))

    def test_post_wakes_a_sleeping_loop(self):
        woke = []

        def later():
            self.loop.call_soon_threadsafe(lambda: (woke.append(True), self.loop.stop()))

        timer = threading.Timer(0.05, later)
        timer.start()
        self.loop.call_later(10, self.loop.stop)  # the bound, not the expected way out
        start = self.loop.time()
        self.loop.run_forever()
        timer.join()
        assert woke == [True]
        assert self.loop.time() - start < 5

    def test_threadsafe_from_the_loop_thread_runs_next_iteration(self):
        out = []

        def first():
            self.loop.call_soon_threadsafe(out.append, "threadsafe")
            self.loop.call_soon(out.append, "soon")
            self.loop.stop()

        self.loop.call_soon(first)
        self.loop.run_forever()
        assert out == []
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == ["threadsafe", "soon"]

    def test_posts_and_call_soon_keep_one_fifo(self):
        results = []
        posted = threading.Event()

        def post():
            self.loop.call_soon_threadsafe(results.append, "posted first")
            posted.set()

        thread = threading.Thread(target=post)
        thread.start()
        assert posted.wait(10)
        thread.join()
        self.loop.call_soon_threadsafe(results.append, "same thread")
        self.loop.call_soon(results.append, "call_soon last")
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert results == ["posted first", "same thread", "call_soon last"]

    def test_threadsafe_handle_can_be_cancelled(self):
        out = []
        handle = self.loop.call_soon_threadsafe(out.append, 1)
        handle.cancel()
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        assert out == []

    def test_run_in_thread_and_post_back(self):
        results = []

        def work():
            self.loop.call_soon_threadsafe(results.append, threading.get_ident())
            self.loop.call_soon_threadsafe(self.loop.stop)

        thread = threading.Thread(target=work)
        self.loop.call_soon(thread.start)
        self.loop.run_forever()
        thread.join()
        assert len(results) == 1 and results[0] != threading.get_ident()

    def test_threadsafe_after_close_raises(self):
        self.loop.close()
        try:
            self.loop.call_soon_threadsafe(print)
        except RuntimeError:
            pass
        else:
            raise AssertionError("call_soon_threadsafe on a closed loop must raise")

    def test_loop_runs_on_another_thread(self):
        ready = threading.Event()
        out = []

        def run():
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        thread = threading.Thread(target=run)
        thread.start()
        assert ready.wait(10)
        self.loop.call_soon_threadsafe(out.append, "from main")
        self.loop.call_soon_threadsafe(self.loop.stop)
        thread.join(10)
        assert not thread.is_alive()
        assert out == ["from main"]


class TestWeftThreadsafe(WeftLoop, ThreadsafeCases):
    pass


class TestAsyncioThreadsafe(AsyncioLoop, ThreadsafeCases):
    pass
