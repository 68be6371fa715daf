"""A C plugin loaded by a Python program (examples/python/plugin): it shares
the program's runtime, loop and pool through its runtime handle, Python
awaits its futures and it awaits Python's, and unloading it cancels and
drains its scope before dlclose."""
import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
EXAMPLE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "examples", "python", "plugin"))
sys.path.insert(0, EXAMPLE)

import pytest  # noqa: E402
import weft  # noqa: E402
from weft import capi  # noqa: E402
import main as example  # noqa: E402  examples/python/plugin/main.py
from helpers.runtime import Runtime, wait_outcome  # noqa: E402

PLUGIN = os.path.join(EXAMPLE, "weft_py_plugin.so")


def test_the_example_program_runs():
    lines = []
    example.main(PLUGIN, say=lines.append)
    assert lines == ["plugin square_later(7) = 49",
                     "plugin square_on_pool(9) = 81",
                     "plugin double_when(answer()) = 42",
                     "unloaded: its pending square_later(3) was cancelled"]


@pytest.fixture
def rt():
    with Runtime(threads=2) as runtime:
        yield runtime


def test_the_plugin_shares_the_runtime_and_has_its_own_scope(rt):
    plugin = example.Plugin(PLUGIN, rt.runtime, rt.loop, name="shared")
    future = plugin.square_later(5, delay_ms=60_000)
    items = []
    capi.weft_runtime_dump(rt.runtime, items.append)
    assert any(i["kind"] == capi.WEFT_OBJECT_SCOPE and i["name"] == "shared" for i in items)
    assert any(i["kind"] == capi.WEFT_OBJECT_TIMER and i["scope"] == "shared" for i in items)
    # A C work function of the plugin, submitted from Python by address:
    # runs on the shared pool without the GIL.
    work = capi.weft_executor_submit(rt.pool, rt.loop, plugin.square_work_address, None, 12)
    assert wait_outcome(rt, work) == (capi.WEFT_OK, 144, None)
    capi.weft_future_release(work)
    assert plugin.live_jobs() == 1
    plugin.unload()  # the timer is cancelled and drained; its job freed
    assert future.cancelled()
    future.close()
    stats = capi.weft_runtime_stats(rt.runtime)
    assert stats.scopes == 1 and stats.timers_pending == 0
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_NOWAIT)  # nothing calls into the unloaded code


def test_a_python_coroutine_and_the_plugin_await_each_other(rt):
    async def main():
        async with example.drive(rt.loop):
            plugin = example.Plugin(PLUGIN, rt.runtime, rt.loop)

            async def python_side(x):
                # awaits the plugin's future, then hands back a value
                return await plugin.square_on_pool(x) + 1

            doubled = plugin.double_when(weft.Future.from_awaitable(python_side(4), rt.loop))
            assert await doubled == 34  # 2 * (4*4 + 1)

            async def failing():
                raise weft.TimedOutError(capi.WEFT_ERR_TIMED_OUT)

            with pytest.raises(weft.TimedOutError):  # the failure passes through C
                await plugin.double_when(weft.Future.from_awaitable(failing(), rt.loop))

            async def forever():
                await asyncio.sleep(60)

            stuck = weft.Future.from_awaitable(forever(), rt.loop)
            waiting = plugin.double_when(stuck)  # the plugin waits on Python
            jobs = plugin.live_jobs()
            assert jobs >= 1
            plugin.unload()  # its wait on the Python future is cancelled with its scope
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert not stuck.done()  # the Python side itself was not cancelled
            stuck.cancel()
    asyncio.run(asyncio.wait_for(main(), 10))


def test_loading_into_a_bad_runtime_raises(rt):
    with pytest.raises(weft.InvalidHandleError):
        example.Plugin(PLUGIN, capi.handle_from_address(0, "weft_runtime_t"), rt.loop)
