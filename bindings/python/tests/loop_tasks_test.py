"""Futures and tasks on weft.Loop (create_future, create_task with name and
context, the task factory), and the ways to run it: weft.run, asyncio.run
after weft.install(), asyncio.Runner(loop_factory=weft.new_event_loop),
EventLoopPolicy. Behaviour tests run against weft's loop and asyncio's."""
import asyncio
import contextvars

import pytest

import weft
from loop_twins import AsyncioLoop, LoopCase, WeftLoop

var = contextvars.ContextVar("var", default="unset")


class TaskCases(LoopCase):
    def test_create_future_belongs_to_the_loop(self):
        fut = self.loop.create_future()
        assert isinstance(fut, asyncio.Future)
        assert fut.get_loop() is self.loop
        self.loop.call_soon(fut.set_result, 7)
        assert self.loop.run_until_complete(fut) == 7

    def test_future_callbacks_run_in_order_on_the_loop(self):
        order = []
        fut = self.loop.create_future()
        for i in range(5):
            fut.add_done_callback(lambda f, i=i: order.append(i))
        fut.set_result(None)
        self.run_briefly()
        assert order == [0, 1, 2, 3, 4]

    def test_create_task_name_and_context(self):
        async def read_var():
            await asyncio.sleep(0)
            return var.get()

        ctx = contextvars.copy_context()
        ctx.run(var.set, "in context")
        task = self.loop.create_task(read_var(), name="reader", context=ctx)
        assert task.get_name() == "reader"
        assert self.loop.run_until_complete(task) == "in context"
        assert var.get() == "unset"

    def test_running_loop_inside_tasks(self):
        async def main():
            return asyncio.get_running_loop()

        assert self.loop.run_until_complete(main()) is self.loop

    def test_task_factory(self):
        made = []

        def factory(loop, coro, **kwargs):
            task = asyncio.Task(coro, loop=loop, **kwargs)
            made.append(task)
            return task

        assert self.loop.get_task_factory() is None
        self.loop.set_task_factory(factory)
        assert self.loop.get_task_factory() is factory

        async def value():
            return 5

        task = self.loop.create_task(value(), name="named")
        assert made == [task]
        assert task.get_name() == "named"
        assert self.loop.run_until_complete(task) == 5
        with pytest.raises(TypeError):
            self.loop.set_task_factory(1)
        self.loop.set_task_factory(None)

    def test_gather_wait_for_and_cancellation(self):
        async def slow():
            await asyncio.sleep(10)

        async def main():
            results = await asyncio.gather(*(asyncio.sleep(0.001, i) for i in range(20)))
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(slow(), 0.01)
            task = asyncio.ensure_future(slow())
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return results

        assert self.loop.run_until_complete(main()) == list(range(20))

    def test_task_group_and_timeout(self):
        async def main():
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(asyncio.sleep(0.001, i)) for i in range(10)]
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.01):
                    await asyncio.sleep(10)
            return [t.result() for t in tasks]

        assert self.loop.run_until_complete(main()) == list(range(10))


class TestWeftTasks(WeftLoop, TaskCases):
    pass


class TestAsyncioTasks(AsyncioLoop, TaskCases):
    pass


async def _which_loop():
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_weft_run():
    assert weft.run(_which_loop()) is weft.Loop
    assert weft.run(_which_loop(), debug=True) is weft.Loop


def test_asyncio_runner_with_weft_loop_factory():
    with asyncio.Runner(loop_factory=weft.new_event_loop) as runner:
        assert runner.run(_which_loop()) is weft.Loop
        assert isinstance(runner.get_loop(), weft.Loop)


def test_install_makes_asyncio_run_use_weft():
    previous = asyncio.get_event_loop_policy()
    try:
        weft.install()
        assert isinstance(asyncio.get_event_loop_policy(), weft.EventLoopPolicy)
        assert asyncio.run(_which_loop()) is weft.Loop
        loop = asyncio.new_event_loop()
        assert isinstance(loop, weft.Loop)
        loop.close()
    finally:
        asyncio.set_event_loop_policy(previous)


def test_loop_is_an_abstract_event_loop():
    loop = weft.new_event_loop()
    try:
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


class AsyncGenCases(LoopCase):
    def test_shutdown_asyncgens_closes_suspended_generators(self):
        closed = []

        async def gen(tag):
            try:
                yield 1
                yield 2
            finally:
                closed.append(tag)

        async def main():
            started = [gen(i) for i in range(3)]
            for agen in started:
                assert await agen.__anext__() == 1
            return started

        agens = self.loop.run_until_complete(main())
        assert closed == []
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        assert sorted(closed) == [0, 1, 2]
        del agens

    def test_asyncgen_error_on_close_goes_to_the_handler(self):
        contexts = []
        self.loop.set_exception_handler(lambda loop, ctx: contexts.append(ctx))

        async def bad():
            try:
                yield 1
            finally:
                raise ValueError("closing failed")

        async def main():
            agen = bad()
            await agen.__anext__()
            return agen

        agen = self.loop.run_until_complete(main())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        assert len(contexts) == 1
        assert contexts[0]["asyncgen"] is agen
        assert isinstance(contexts[0]["exception"], ValueError)

    def test_finalizer_hook_closes_dropped_generators_on_the_loop(self):
        closed = []

        async def gen():
            try:
                yield 1
                yield 2
            finally:
                closed.append(asyncio.get_running_loop() is self.loop)

        async def main():
            agen = gen()
            await agen.__anext__()
            del agen  # the finalizer hook schedules aclose() on the loop
            await asyncio.sleep(0)
            await asyncio.sleep(0)

        self.loop.run_until_complete(main())
        assert closed == [True]


class TestWeftAsyncGens(WeftLoop, AsyncGenCases):
    pass


class TestAsyncioAsyncGens(AsyncioLoop, AsyncGenCases):
    pass
