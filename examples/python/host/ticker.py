"""The Python half of the host-driven example (host_driven.c): an asyncio
task on a weft.Loop attached to the C host's runtime. The host steps the
runtime with weft_loop_run_for each frame; the task ticks inside those steps.

Runs on the host's thread (the runtime's loop thread), inside the host's
weft_loop_run_for calls, with the GIL taken by weft for each callback. The
host owns the runtime; a Ticker owns its attached loop and closes it.
"""
import asyncio

import weft


class Ticker:
    def __init__(self, runtime_address, period):
        self.loop = weft.attach_loop(runtime_address)
        self.ticks = 0
        self.ticks_on_running_loop = 0  # asyncio.get_running_loop() was this loop
        self.child_tasks = 0
        self.task = self.loop.create_task(self._run(period), name="ticker")

    async def _run(self, period):
        while True:
            await asyncio.sleep(period)
            self.ticks += 1
            if asyncio.get_running_loop() is self.loop:
                self.ticks_on_running_loop += 1
            # create_task works inside a step too: a child task per tick.
            self.child_tasks += await asyncio.create_task(self._child())

    async def _child(self):
        await asyncio.sleep(0)
        return 1

    def stop(self):
        """Cancels the task; it finishes in the host's next steps."""
        self.task.cancel()

    def done(self):
        return self.task.done()

    def close(self):
        self.loop.close()  # the runtime stays the host's

    def report(self):
        return "ticks %d, on the running loop %d, child tasks %d, cancelled %s" % (
            self.ticks, self.ticks_on_running_loop, self.child_tasks,
            self.task.done() and self.task.cancelled())
