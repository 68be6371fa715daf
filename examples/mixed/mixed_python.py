"""The Python part of the mixed example (mixed_host.c): asyncio coroutines on
a weft.Loop attached to the C host's runtime, stepped by the host's
weft_loop_run_for calls like everything else in that runtime.

- answer(): awaits the Lua task's result ("lua.result", a weft future the
  script published) and returns it plus one; handed to C as a weft future
  with weft.Future.from_awaitable and published as "python.answer", which
  the C plugin awaits.
- watch_forever(): awaits the Lua task "forever" ("lua.forever"), which
  only ends when the host unloads the script: it sees the cancellation.
- tick(): counts 10 ms sleeps until stopped, to show Python goes on while
  the Lua script is unloaded.

Thread: the host's main thread (the runtime's loop thread): the host calls
in with the GIL held; coroutines run inside the host's steps, weft taking
the GIL for each callback.
Ownership: the host owns the runtime and the exchange; a PythonPart owns
its attached loop and the weft.Future objects it made (each holding a
reference of its own, dropped in close()). The exchange keeps its own
reference to "python.answer" (mixed_host.put); mixed_host.address gives a
future borrowed from the exchange, and weft.Future.from_address takes a
reference of Python's own.
"""
import asyncio
import gc

import mixed_host  # the host's exchange (built into mixed_host.c)
import weft

TICK_S = 0.01


class PythonPart:
    def __init__(self, runtime_address):
        self.loop = weft.attach_loop(runtime_address)
        self.weft_loop = weft.futures.loop_handle_of(self.loop)
        self.lua_result = None        # what the Lua task gave
        self.lua_cancel_seen = False  # "lua.forever" ended cancelled
        self.ticks = 0
        self._futures = []            # weft.Future objects to close
        self.answer = weft.Future.from_awaitable(self._answer(), self.weft_loop,
                                                 asyncio_loop=self.loop)
        self._futures.append(self.answer)
        mixed_host.put("python.answer", self.answer.address)
        self.tasks = [self.loop.create_task(self._watch_forever(), name="watch-forever"),
                      self.loop.create_task(self._tick(), name="tick")]
        # What is loaded by now lives as long as the program: keep it out of
        # the collector's full passes, which would otherwise walk it inside
        # some frame's budget (a game host's usual step).
        gc.freeze()

    def _published(self, name):
        future = weft.Future.from_address(mixed_host.address(name), self.weft_loop)
        self._futures.append(future)
        return future

    async def _answer(self):
        self.lua_result = await self._published("lua.result")
        await asyncio.sleep(TICK_S)
        return self.lua_result + 1

    async def _watch_forever(self):
        try:
            await self._published("lua.forever")
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise  # this task itself is being cancelled (stop())
            self.lua_cancel_seen = True

    async def _tick(self):
        while True:
            await asyncio.sleep(TICK_S)
            self.ticks += 1

    def counts(self):
        """(lua result or -1, lua cancellation seen, ticks)."""
        return (-1 if self.lua_result is None else self.lua_result, self.lua_cancel_seen, self.ticks)

    def stop(self):
        """Cancels the tasks still running; they finish in the next steps."""
        for task in self.tasks:
            task.cancel()

    def done(self):
        return all(task.done() for task in self.tasks)

    def close(self):
        for future in self._futures:
            future.close()
        self.loop.close()  # the runtime stays the host's
