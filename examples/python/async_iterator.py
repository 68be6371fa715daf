"""An asynchronous iterator class (__aiter__/__anext__) on weft's event loop:
a ticker that yields a number every interval, consumed with `async for`,
plus an asynchronous generator and an async comprehension over it.
"""
import asyncio

import weft


class Ticker:
    """Yields 0, 1, ... count-1, one every `interval` seconds."""

    def __init__(self, interval, count):
        self.interval = interval
        self.count = count
        self.next = 0

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.next >= self.count:
            raise StopAsyncIteration
        await asyncio.sleep(self.interval)
        value, self.next = self.next, self.next + 1
        return value


async def squares(numbers):
    async for n in numbers:
        yield n * n


async def main():
    async for tick in Ticker(0.01, 3):
        print("tick", tick)
    print("squares:", [s async for s in squares(Ticker(0.01, 5))])


if __name__ == "__main__":
    weft.run(main())
