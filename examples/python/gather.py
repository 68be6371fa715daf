"""asyncio.gather on weft's event loop: three factorials computed by
concurrent tasks, their steps interleaved, the results in argument order.
Installs weft's policy with weft.install() and uses plain asyncio.run().
"""
import asyncio

import weft


async def factorial(name, number):
    f = 1
    for i in range(2, number + 1):
        print(f"Task {name}: Compute factorial({number}), currently i={i}...")
        await asyncio.sleep(0.01)
        f *= i
    print(f"Task {name}: factorial({number}) = {f}")
    return f


async def main():
    results = await asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))
    print("results:", results)


if __name__ == "__main__":
    weft.install()
    asyncio.run(main())
