"""add_signal_handler with subprocesses on weft's event loop: a worker
child runs until the program is told to stop. The program's SIGUSR1
handler (loop.add_signal_handler) asks the worker to finish with SIGTERM;
its SIGUSR2 handler reports progress. A second child plays the operator:
it sends the program SIGUSR2 twice, then SIGUSR1 (here the signals come
from a child; from a terminal, `kill -USR1 <pid>` does the same).
"""
import asyncio
import os
import signal
import subprocess

import weft


async def main():
    loop = asyncio.get_running_loop()
    print("loop:", type(loop).__module__)
    stop = loop.create_future()
    reports = []

    # The worker prints a line every 20 ms until it is terminated.
    worker = await asyncio.create_subprocess_exec(
        "sh", "-c", "trap 'echo worker: stopping; exit 0' TERM; "
                    "while true; do echo tick; sleep 0.02; done",
        stdout=subprocess.PIPE)
    ticks = 0

    async def read_worker():
        nonlocal ticks
        async for line in worker.stdout:
            if line == b"tick\n":
                ticks += 1
            else:
                print(line.decode().strip())

    reader = asyncio.create_task(read_worker())
    loop.add_signal_handler(signal.SIGUSR2, lambda: reports.append(ticks))
    loop.add_signal_handler(signal.SIGUSR1, lambda: stop.done() or stop.set_result(None))

    # The operator: waits, signals progress twice, then asks to stop.
    operator = await asyncio.create_subprocess_exec(
        "sh", "-c", f"sleep 0.2; kill -USR2 {os.getpid()}; sleep 0.2; "
                    f"kill -USR2 {os.getpid()}; sleep 0.1; kill -USR1 {os.getpid()}")
    await asyncio.wait_for(stop, 30)
    print("SIGUSR1 received: stopping the worker")
    worker.terminate()
    status = await worker.wait()
    await reader
    loop.remove_signal_handler(signal.SIGUSR1)
    loop.remove_signal_handler(signal.SIGUSR2)
    growing = all(a < b for a, b in zip(reports, reports[1:]))
    print(f"progress reports: {len(reports)}, the worker progressed between them: {growing}")
    print(f"worker exit status: {status}, operator exit status: {await operator.wait()}")


if __name__ == "__main__":
    weft.run(main())
