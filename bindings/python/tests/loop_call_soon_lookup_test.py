"""weft.Loop's bound call_soon kept while the loop runs (weft/loop.py,
_cache_call_soon): lookups of loop.call_soon during a run return one bound
method, and what a subclass or the instance defines as call_soon still
wins, before, during and after the run."""
import asyncio

import weft


async def one_step():
    await asyncio.sleep(0)
    return "done"


def test_lookups_during_a_run_share_one_bound_method_and_it_goes_after():
    loop = weft.new_event_loop()
    try:
        seen = []

        async def main():
            seen.append(loop.call_soon)
            seen.append(loop.call_soon)
            return await loop.create_task(one_step())

        assert loop.run_until_complete(main()) == "done"
        assert seen[0] is seen[1]
        assert "call_soon" not in vars(loop)
        assert loop.call_soon is not seen[0]  # a fresh bound method again
    finally:
        loop.close()


def test_a_subclass_call_soon_is_what_tasks_and_futures_use():
    calls = []

    class Counting(weft.Loop):
        def call_soon(self, callback, *args, context=None):
            calls.append(callback)
            return super().call_soon(callback, *args, context=context)

    loop = Counting()
    try:
        assert loop.run_until_complete(one_step()) == "done"
        # The task's first step, its step after sleep(0), and the done
        # callbacks all went through the subclass.
        assert len(calls) >= 3
        assert "call_soon" not in vars(loop)
    finally:
        loop.close()


def test_an_instance_call_soon_set_before_or_during_a_run_is_kept():
    loop = weft.new_event_loop()
    try:
        calls = []
        original = loop.call_soon

        def patched(callback, *args, context=None):
            calls.append(callback)
            return original(callback, *args, context=context)

        loop.call_soon = patched
        assert loop.run_until_complete(one_step()) == "done"
        assert loop.call_soon is patched and calls
        del loop.call_soon

        during = []

        def patched_during(callback, *args, context=None):
            during.append(callback)
            return original(callback, *args, context=context)

        async def main():
            loop.call_soon = patched_during
            return await loop.create_task(one_step())

        assert loop.run_until_complete(main()) == "done"
        assert during
        assert loop.call_soon is patched_during
    finally:
        loop.close()
