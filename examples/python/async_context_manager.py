"""Asynchronous context managers on weft's event loop: a class with
__aenter__/__aexit__ (a connection that opens and closes asynchronously,
even when the body raises) and one written with contextlib.asynccontextmanager.
"""
import asyncio
import contextlib

import weft


class Connection:
    def __init__(self, name):
        self.name = name
        self.open = False

    async def __aenter__(self):
        await asyncio.sleep(0.01)  # the handshake
        self.open = True
        print(f"{self.name}: opened")
        return self

    async def __aexit__(self, kind, value, traceback):
        await asyncio.sleep(0.01)  # the goodbye
        self.open = False
        print(f"{self.name}: closed ({'after ' + kind.__name__ if kind else 'cleanly'})")
        return False  # exceptions propagate


@contextlib.asynccontextmanager
async def timed(label):
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        yield
    finally:
        print(f"{label}: done in under a second: {loop.time() - started < 1.0}")


async def main():
    async with timed("first"), Connection("first") as connection:
        print(f"first: using it, open={connection.open}")
    try:
        async with Connection("second"):
            raise ValueError("the body failed")
    except ValueError as e:
        print(f"second: the error came through: {e}")


if __name__ == "__main__":
    weft.run(main())
