"""weft.policy: using weft.Loop with asyncio — new_event_loop(),
EventLoopPolicy, install(), run(), and attach_loop() for host-driven
runtimes. Any thread (as asyncio's own policy functions)."""
import asyncio

from .loop import Loop


def new_event_loop():
    """A new weft.Loop on its own runtime."""
    return Loop()


def attach_loop(runtime):
    """A weft.Loop on a host's runtime (weft_runtime_t* as an int, capsule
    or weft.capi runtime); see the package docstring, "Host-driven"."""
    return Loop.attach(runtime)


class EventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """asyncio's default policy, making weft loops."""

    def _loop_factory(self):
        return new_event_loop()

    def new_event_loop(self):
        return new_event_loop()


def install():
    """Makes weft's policy asyncio's: asyncio.run, asyncio.new_event_loop and
    get_event_loop then use weft loops."""
    asyncio.set_event_loop_policy(EventLoopPolicy())


def run(main, *, debug=None):
    """asyncio.run(main, debug=debug) on a new weft loop."""
    with asyncio.Runner(debug=debug, loop_factory=new_event_loop) as runner:
        return runner.run(main)


__all__ = ["new_event_loop", "attach_loop", "EventLoopPolicy", "install", "run"]
