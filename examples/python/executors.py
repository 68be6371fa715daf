"""run_in_executor on weft's event loop: blocking work off the loop thread,
on weft's own pool (the default executor), on a ThreadPoolExecutor and on a
ProcessPoolExecutor, while the loop keeps running a heartbeat.
Uses asyncio.Runner with weft.new_event_loop as its loop factory.
"""
import asyncio
import concurrent.futures
import hashlib
import multiprocessing
import os
import threading
import time


def blocking_io(seconds):
    time.sleep(seconds)  # a file or a device: the loop thread must not wait
    return threading.current_thread() is not threading.main_thread()


def cpu_bound(rounds):
    digest = b"weft"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return os.getpid(), digest.hex()[:16]


async def heartbeat(beats):
    while True:
        await asyncio.sleep(0.01)
        beats.append(time.monotonic())


async def main():
    loop = asyncio.get_running_loop()
    beats = []
    beating = asyncio.create_task(heartbeat(beats))

    off_thread = await loop.run_in_executor(None, blocking_io, 0.1)
    print("default executor: ran off the loop thread:", off_thread)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = await asyncio.gather(*(loop.run_in_executor(pool, blocking_io, 0.1)
                                         for _ in range(4)))
        print("thread pool: 4 calls, all off the loop thread:", all(results))

    # "spawn": fresh interpreters, not forks of this threaded process.
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        results = await asyncio.gather(*(loop.run_in_executor(pool, cpu_bound, 20000)
                                         for _ in range(2)))
        pids = {pid for pid, _ in results}
        digests = {digest for _, digest in results}
        print("process pool: ran in another process:", os.getpid() not in pids)
        print("process pool: same digest from both calls:", len(digests) == 1, digests.pop())

    beating.cancel()
    print("the loop kept running meanwhile:", len(beats) >= 5)


if __name__ == "__main__":
    import weft
    with asyncio.Runner(loop_factory=weft.new_event_loop) as runner:
        runner.run(main())
