"""say_after, sequential and then concurrent, on weft's event loop.

Two coroutines that sleep and print. Awaited one after the other they take
the sum of their delays; started as tasks they run at once and take the
longest. Run with weft.run(): asyncio.run on a weft loop.
"""
import asyncio
import time

import weft


async def say_after(delay, what):
    await asyncio.sleep(delay)
    print(what)


async def sequential():
    started = time.monotonic()
    await say_after(0.2, "hello")
    await say_after(0.3, "world")
    return time.monotonic() - started


async def concurrent():
    started = time.monotonic()
    task1 = asyncio.create_task(say_after(0.2, "hello"))
    task2 = asyncio.create_task(say_after(0.3, "world"))
    await task1
    await task2
    return time.monotonic() - started


async def main():
    print("loop:", type(asyncio.get_running_loop()).__module__)
    print("sequential took %.1f s" % await sequential())
    print("concurrent took %.1f s" % await concurrent())


if __name__ == "__main__":
    weft.run(main())
