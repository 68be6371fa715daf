"""A subprocess pipeline on weft's event loop, as a shell's
`producer | sort | uniq -c` but wired by the program: three children
started with asyncio.create_subprocess_exec, the first's output copied into
the second's input by one task and the second's into the third's by another
(with drain(): the slower reader holds the writer back), then the exit
statuses, and a child that fails with its stderr captured.
"""
import asyncio
import subprocess
import sys

import weft

PIPE = subprocess.PIPE


async def copy(source, target):
    """Copies a child's stdout into another child's stdin, then closes it."""
    copied = 0
    while chunk := await source.read(65536):
        target.write(chunk)
        await target.drain()
        copied += len(chunk)
    target.close()
    await target.wait_closed()
    return copied


async def main():
    print("loop:", type(asyncio.get_running_loop()).__module__)
    # 30,000 lines naming 3 fruits, as a producer would print them.
    producer = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import itertools\n"
        "for i, fruit in zip(range(30000), itertools.cycle(['pear', 'apple', 'fig'])):\n"
        "    print(fruit)\n",
        stdout=PIPE)
    sort = await asyncio.create_subprocess_exec("sort", stdin=PIPE, stdout=PIPE)
    count = await asyncio.create_subprocess_exec("uniq", "-c", stdin=PIPE, stdout=PIPE)
    copied_first, copied_second, (counted, _) = await asyncio.gather(
        copy(producer.stdout, sort.stdin), copy(sort.stdout, count.stdin), count.communicate())
    print(f"bytes through the pipes: {copied_first} then {copied_second}")
    for line in counted.decode().splitlines():
        number, fruit = line.split()
        print(f"{fruit}: {number}")
    codes = [await child.wait() for child in (producer, sort, count)]
    print("exit statuses:", codes)

    failing = await asyncio.create_subprocess_shell("echo 'no such file' >&2; exit 3",
                                                    stderr=PIPE)
    _, err = await failing.communicate()
    print(f"a failing child: status {failing.returncode}, stderr {err.decode().strip()!r}")


if __name__ == "__main__":
    weft.run(main())
