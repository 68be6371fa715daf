"""run_in_executor on weft.Loop: the default executor (weft's pool), a
ThreadPoolExecutor, a ProcessPoolExecutor, dask.distributed's
Client.get_executor() over a LocalCluster of worker processes on 127.0.0.1,
set_default_executor, shutdown_default_executor, and getaddrinfo /
getnameinfo off the loop thread. Against weft's loop and asyncio's."""
import asyncio
import concurrent.futures
import os
import socket
import threading

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop


def square(x):
    return x * x


def process_id(_):
    return os.getpid()


class ExecutorCases(LoopCase):
    def test_default_executor_runs_off_the_loop_thread(self):
        loop_thread = threading.get_ident()

        async def main():
            loop = asyncio.get_running_loop()
            idents = await asyncio.gather(
                *(loop.run_in_executor(None, threading.get_ident) for _ in range(20)))
            values = await asyncio.gather(
                *(loop.run_in_executor(None, square, i) for i in range(20)))
            return idents, values

        idents, values = self.loop.run_until_complete(main())
        assert loop_thread not in idents
        assert values == [i * i for i in range(20)]

    def test_posts_from_work_run_before_its_result(self):
        seen = []

        def work():
            self.loop.call_soon_threadsafe(seen.append, "posted by the work")
            return "result"

        async def main():
            seen.append(await asyncio.get_running_loop().run_in_executor(None, work))

        self.loop.run_until_complete(main())
        assert seen == ["posted by the work", "result"]

    def test_default_executor_exception(self):
        async def main():
            return await asyncio.get_running_loop().run_in_executor(None, int, "not a number")

        with pytest.raises(ValueError):
            self.loop.run_until_complete(main())

    def test_default_executor_submit(self):
        async def main():
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, int)  # creates the default executor
            executor = loop._default_executor
            future = executor.submit(square, 9)
            return await asyncio.wrap_future(future)

        assert self.loop.run_until_complete(main()) == 81

    def test_thread_pool_executor(self):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            async def main():
                return await asyncio.get_running_loop().run_in_executor(pool, square, 12)

            assert self.loop.run_until_complete(main()) == 144

    def test_process_pool_executor(self):
        with concurrent.futures.ProcessPoolExecutor(2) as pool:
            async def main():
                loop = asyncio.get_running_loop()
                pids = await asyncio.gather(*(loop.run_in_executor(pool, process_id, i)
                                              for i in range(4)))
                value = await loop.run_in_executor(pool, square, 7)
                return pids, value

            pids, value = self.loop.run_until_complete(main())
            assert os.getpid() not in pids
            assert value == 49

    def test_set_default_executor(self):
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="chosen")
        self.loop.set_default_executor(pool)

        async def main():
            return await asyncio.get_running_loop().run_in_executor(
                None, lambda: threading.current_thread().name)

        assert self.loop.run_until_complete(main()).startswith("chosen")
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        with pytest.raises(RuntimeError):
            pool.submit(int)

    def test_shutdown_default_executor_waits_and_refuses_more(self):
        async def main():
            loop = asyncio.get_running_loop()
            slow = loop.run_in_executor(None, __import__("time").sleep, 0.05)
            await loop.shutdown_default_executor()
            assert slow.done() or await slow is None
            with pytest.raises(RuntimeError):
                loop.run_in_executor(None, int)

        self.loop.run_until_complete(main())

    def test_getaddrinfo_and_getnameinfo(self):
        loop_thread = threading.get_ident()
        seen = []
        real = socket.getaddrinfo

        async def main():
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
            name = await loop.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST |
                                          socket.NI_NUMERICSERV)
            return infos, name

        def spy(*args, **kwargs):
            seen.append(threading.get_ident())
            return real(*args, **kwargs)

        socket.getaddrinfo = spy
        try:
            infos, name = self.loop.run_until_complete(main())
        finally:
            socket.getaddrinfo = real
        assert infos[0][4] == ("127.0.0.1", 80)
        assert name == ("127.0.0.1", "80")
        assert seen and loop_thread not in seen


class TestWeftExecutors(WeftLoop, ExecutorCases):
    def test_default_executor_is_weft_pool(self):
        import weft.executors

        async def main():
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, int)
            return loop._default_executor

        assert isinstance(self.loop.run_until_complete(main()), weft.executors.PoolExecutor)

    def test_set_default_executor_rejects_non_executors(self):
        with pytest.raises(TypeError):
            self.loop.set_default_executor(object())


class TestAsyncioExecutors(AsyncioLoop, ExecutorCases):
    pass


def _dask():
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        return exc
    return None


@pytest.mark.skipif(_dask() is not None,
                    reason=f"dask.distributed cannot be imported: {_dask()}")
@pytest.mark.parametrize("make_loop", ["weft", "asyncio"])
def test_dask_distributed_executor(make_loop):
    import distributed
    import weft

    loop = weft.new_event_loop() if make_loop == "weft" else asyncio.new_event_loop()
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       silence_logs=50)
    try:
        with distributed.Client(cluster) as client:
            executor = client.get_executor()

            async def main():
                running = asyncio.get_running_loop()
                values = await asyncio.gather(
                    *(running.run_in_executor(executor, square, i) for i in range(8)))
                pids = set(await asyncio.gather(
                    *(running.run_in_executor(executor, process_id, i) for i in range(8))))
                return values, pids

            values, pids = loop.run_until_complete(main())
            assert values == [i * i for i in range(8)]
            assert os.getpid() not in pids
    finally:
        cluster.close()
        loop.close()
