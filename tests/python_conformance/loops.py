"""The event loops the conformance runner can put under CPython's asyncio tests.

Each loop is named (``weft``, ``asyncio``, ``uvloop``) and gives a factory
(a callable returning a new, not running loop) and a policy class whose
``new_event_loop`` uses that factory. Every loop made through either is
counted in ``created``, so the runner can tell which tests really ran on the
loop under test (many of CPython's tests build a mock loop of their own).
Runs on the main thread of the runner's child process; nothing here owns a
loop: the tests close what they create.
"""
import asyncio

NAMES = ("weft", "asyncio", "uvloop")

created = 0  # loops made by the factory or the policy since the process started


def _base(name):
    """(factory, policy base class) of the named loop, unwrapped."""
    if name == "weft":
        import weft
        return weft.new_event_loop, weft.EventLoopPolicy
    if name == "uvloop":
        import uvloop
        return uvloop.new_event_loop, uvloop.EventLoopPolicy
    if name == "asyncio":
        return asyncio.SelectorEventLoop, asyncio.unix_events._UnixDefaultEventLoopPolicy
    raise ValueError("unknown loop %r (known: %s)" % (name, ", ".join(NAMES)))


def factory(name):
    """A callable that makes a new loop of the named kind and counts it."""
    make, _ = _base(name)

    def new_loop():
        global created
        created += 1
        return make()

    new_loop.__name__ = "new_%s_loop" % name
    return new_loop


def policy_class(name):
    """The named loop's policy, counting the loops it makes.

    CPython's test_utils.TestCase.close_loop asks every policy for its child
    watcher and only expects NotImplementedError from those without one; a
    policy that has no such method at all gets one that says so.
    """
    make_loop = factory(name)
    _, base = _base(name)
    methods = {"new_event_loop": lambda self: make_loop()}
    if not hasattr(base, "get_child_watcher"):
        def get_child_watcher(self):
            raise NotImplementedError("%s has no child watcher" % base.__name__)
        methods["get_child_watcher"] = get_child_watcher
    return type("Counting%sPolicy" % name.capitalize(), (base,), methods)


def install(name):
    """Makes the named loop asyncio's default: asyncio.new_event_loop(),
    asyncio.run(), asyncio.Runner() and IsolatedAsyncioTestCase use it, also
    after a test resets the policy with set_event_loop_policy(None) (which
    instantiates asyncio.DefaultEventLoopPolicy)."""
    policy = policy_class(name)
    asyncio.DefaultEventLoopPolicy = policy
    asyncio.set_event_loop_policy(policy())
    return policy
