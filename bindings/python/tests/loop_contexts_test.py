"""Which contextvars.Context each callback and task runs in, against weft's
loop and asyncio's default loop (see loop_twins.py): a callback runs in a
copy of the context that was current when it was scheduled (or in the one
given as context=), and what it sets stays in that copy.

weft runs callbacks scheduled from an empty context in one shared empty
context (native/handle.c, "Empty contexts"); these cases are what that must
never let show: a variable one callback set seen by another callback or by
the code that scheduled it.
"""
import asyncio
import contextvars
import gc
import threading

from loop_twins import AsyncioLoop, LoopCase, WeftLoop

color = contextvars.ContextVar("color", default="unset")
size = contextvars.ContextVar("size", default=0)


def in_empty_context(function, *args, **kwargs):
    """Calls function(*args, **kwargs) with no context variable set."""
    return contextvars.Context().run(function, *args, **kwargs)


class ContextCases(LoopCase):
    def run_until_stopped(self):
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()

    def test_a_set_in_one_callback_is_not_seen_by_the_next(self):
        seen = []

        def setter(i):
            seen.append(("before", i, color.get()))
            color.set("set by %d" % i)
            seen.append(("after", i, color.get()))

        def schedule():
            for i in range(3):
                self.loop.call_soon(setter, i)
            self.loop.call_later(0, setter, 3)
            self.loop.call_at(self.loop.time(), setter, 4)

        in_empty_context(schedule)
        self.run_briefly(0.01)
        assert seen == [item for i in range(5)
                        for item in (("before", i, "unset"), ("after", i, "set by %d" % i))]

    def test_the_scheduler_does_not_see_what_callbacks_set(self):
        def schedule_and_run():
            self.loop.call_soon(color.set, "from a callback")
            self.loop.call_soon(size.set, 7)
            self.run_until_stopped()
            return color.get(), size.get(), len(contextvars.copy_context())

        assert in_empty_context(schedule_and_run) == ("unset", 0, 0)
        # The test's own context too (its variables are untouched).
        self.loop.call_soon(color.set, "again")
        self.run_until_stopped()
        assert color.get() == "unset"

    def test_a_callback_that_resets_what_it_set_leaves_nothing(self):
        seen = []

        def set_and_reset():
            token = color.set("temporary")
            color.reset(token)

        def schedule():
            self.loop.call_soon(set_and_reset)
            self.loop.call_soon(lambda: seen.append((color.get(), len(contextvars.copy_context()))))

        in_empty_context(schedule)
        self.run_until_stopped()
        assert seen == [("unset", 0)]

    def test_callbacks_from_a_context_with_values_see_them_and_keep_sets_private(self):
        seen = []

        def reader(tag):
            seen.append((tag, color.get(), size.get()))
            size.set(size.get() + 1)

        def schedule():
            color.set("blue")
            self.loop.call_soon(reader, "a")
            self.loop.call_soon(reader, "b")
            color.set("green")  # after scheduling: not in the copies above
            self.loop.call_soon(reader, "c")
            return color.get(), size.get()

        assert in_empty_context(schedule) == ("green", 0)
        self.run_until_stopped()
        assert seen == [("a", "blue", 0), ("b", "blue", 0), ("c", "green", 0)]

    def test_a_callback_scheduled_after_a_set_in_a_callback_sees_it(self):
        seen = []

        def first():
            color.set("red")
            self.loop.call_soon(second)

        def second():
            seen.append(color.get())

        in_empty_context(self.loop.call_soon, first)
        in_empty_context(self.loop.call_soon, lambda: seen.append(color.get()))
        self.run_briefly()
        assert seen == ["unset", "red"]

    def test_an_explicit_context_is_the_one_run_in(self):
        ctx = contextvars.Context()
        ctx.run(color.set, "explicit")
        seen = []

        def callback():
            seen.append(color.get())
            size.set(42)

        in_empty_context(self.loop.call_soon, callback, context=ctx)
        in_empty_context(self.loop.call_later, 0, callback, context=ctx)
        self.run_briefly(0.01)
        assert seen == ["explicit", "explicit"]
        assert ctx[size] == 42
        # An explicit empty context is also the one run in.
        empty = contextvars.Context()
        self.loop.call_soon(size.set, 5, context=empty)
        self.run_until_stopped()
        assert empty[size] == 5

    def test_copy_context_inside_a_callback(self):
        copies = []

        def callback(tag):
            copy = contextvars.copy_context()
            copies.append((tag, dict(copy)))
            color.set(tag)
            copies.append((tag + " after set", copy.get(color)))

        def schedule():
            self.loop.call_soon(callback, "one")
            self.loop.call_soon(callback, "two")

        in_empty_context(schedule)
        self.run_until_stopped()
        assert copies == [("one", {}), ("one after set", None),
                          ("two", {}), ("two after set", None)]

    def test_a_copy_made_in_a_callback_keeps_what_was_set_before_it(self):
        copies = []

        def callback():
            color.set("kept")
            copies.append(contextvars.copy_context())

        in_empty_context(self.loop.call_soon, callback)
        in_empty_context(self.loop.call_soon, lambda: copies.append(contextvars.copy_context()))
        self.run_until_stopped()
        assert copies[0][color] == "kept"
        assert color not in copies[1]

    def test_the_handles_context_is_the_one_the_callback_runs_in(self):
        # asyncio 3.11's Handle has no get_context() yet: _context is the
        # attribute both loops have (weft's get_context() is the same).
        def callback():
            color.set("through _context")

        handle = in_empty_context(self.loop.call_soon, callback)
        ctx = handle._context
        assert isinstance(ctx, contextvars.Context)
        assert handle._context is ctx
        if self.is_weft:
            assert handle.get_context() is ctx
        assert len(ctx) == 0
        other = in_empty_context(self.loop.call_soon, lambda: None)
        assert other._context is not ctx
        self.run_until_stopped()
        assert ctx[color] == "through _context"

    def test_values_set_in_a_callback_are_released(self):
        class Value:
            pass

        value = Value()
        alive = [value]
        import weakref
        ref = weakref.ref(value)
        del value
        in_empty_context(self.loop.call_soon, lambda: color.set(alive.pop()))
        self.run_until_stopped()
        gc.collect()
        assert ref() is None

    def test_a_nested_loop_run_from_a_callback_keeps_contexts_apart(self):
        # Another loop run inside a callback (from another thread's view:
        # here, in a thread of its own) does not share its contexts.
        seen = []

        def worker():
            other = self.new_loop()
            try:
                other.call_soon(color.set, "other loop")
                other.call_soon(lambda: seen.append(("other", color.get())))
                other.call_soon(other.stop)
                other.run_forever()
            finally:
                other.close()

        def callback():
            color.set("this loop")
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
            seen.append(("this", color.get()))

        in_empty_context(self.loop.call_soon, callback)
        in_empty_context(self.loop.call_soon, lambda: seen.append(("next", color.get())))
        self.run_until_stopped()
        assert seen == [("other", "unset"), ("this", "this loop"), ("next", "unset")]

    def test_call_soon_threadsafe_from_threads_with_and_without_values(self):
        seen = []

        def post(value):
            if value != "plain":
                color.set(value)
            self.loop.call_soon_threadsafe(lambda: seen.append((value, color.get())))
            self.loop.call_soon_threadsafe(color.set, "set by %s" % value)

        threads = [threading.Thread(target=post, args=(v,)) for v in ("plain", "thread")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        in_empty_context(self.loop.call_soon, lambda: seen.append(("last", color.get())))
        self.run_until_stopped()
        assert sorted(seen) == [("last", "unset"), ("plain", "unset"), ("thread", "thread")]

    def test_tasks_run_in_their_own_copies(self):
        async def child(tag):
            before = color.get()
            color.set(tag)
            await asyncio.sleep(0)
            return before, color.get()

        async def main():
            tasks = [asyncio.ensure_future(child("t%d" % i)) for i in range(3)]
            results = await asyncio.gather(*tasks)
            return results, color.get()

        results, after = in_empty_context(self.loop.run_until_complete, main())
        assert results == [("unset", "t0"), ("unset", "t1"), ("unset", "t2")]
        assert after == "unset"

    def test_tasks_see_the_creating_context(self):
        async def child():
            await asyncio.sleep(0)
            return color.get()

        async def main():
            color.set("parent")
            task = self.loop.create_task(child())
            color.set("changed")
            plain = self.loop.create_task(child(), context=contextvars.Context())
            return await task, await plain, color.get()

        assert in_empty_context(self.loop.run_until_complete, main()) == (
            "parent", "unset", "changed")

    def test_future_callbacks_from_an_empty_context(self):
        seen = []

        def done(future):
            seen.append((future.result(), color.get()))
            color.set("set by %s" % future.result())

        def schedule():
            for i in range(3):
                future = self.loop.create_future()
                future.add_done_callback(done)
                future.set_result(i)

        in_empty_context(schedule)
        self.run_until_stopped()
        assert seen == [(0, "unset"), (1, "unset"), (2, "unset")]


class TestWeftContexts(ContextCases, WeftLoop):
    def test_empty_context_handles_allocate_no_tracked_object(self):
        # What the shared empty context is for: call_later from an empty
        # context adds no object the cyclic GC tracks.
        def noop():
            pass

        def arm(count):
            handles = []
            gc.collect()
            gc.disable()
            try:
                before = gc.get_count()[0]
                for _ in range(count):
                    handles.append(self.loop.call_later(3600, noop))
                grew = gc.get_count()[0] - before
            finally:
                gc.enable()
            for h in handles:
                h.cancel()
            return grew

        assert in_empty_context(arm, 500) < 10
        color.set("x")
        try:
            assert arm(500) >= 500  # a context with values is still copied
        finally:
            color.set("unset")

    def test_debug_mode_copies(self):
        self.loop.set_debug(True)
        handle = in_empty_context(self.loop.call_soon, lambda: None)
        assert isinstance(handle._context, contextvars.Context)
        self.run_until_stopped()


class TestAsyncioContexts(ContextCases, AsyncioLoop):
    pass
