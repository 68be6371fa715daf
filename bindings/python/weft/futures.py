"""Cross-language futures: weft.Future wraps a C weft_future_t, so Python
coroutines await futures made by C (or any language on weft), and
Future.from_awaitable hands a Python coroutine's result to C as a
weft_future_t. Cancellation crosses both ways.

Threads. A weft future completes on any thread, but its callbacks run on
its weft loop's thread (the thread that runs that runtime's loop). An
asyncio loop awaiting it may run on that same thread (weft.Loop, or any
asyncio loop while the weft loop is stepped on that thread) or on another
thread; outcomes reach the asyncio loop directly when it is the running
loop of the weft loop's thread, and through call_soon_threadsafe otherwise.
Registering a callback on a weft future must happen on the weft loop
thread: from other threads it is posted there (weft_loop_call_soon_threadsafe).

Ownership. A weft.Future holds one reference to its C future and drops it
when closed (close()) or collected; registered callbacks keep the C future
alive by themselves (weft's rule), so an awaited future never vanishes
under its awaiter.
"""
import asyncio
import concurrent.futures

from . import capi, errors

__all__ = ["Future", "wrap_future", "runtime_of", "loop_handle_of"]

_OK = capi.WEFT_OK
_CANCELLED = capi.WEFT_ERR_CANCELLED


class Future:
    """A weft_future_t seen from Python (awaitable).

    ``Future(handle, loop)`` takes over one reference to ``handle``;
    ``loop`` is the weft loop handle (weft_loop_t) through which callbacks
    are registered (its scope owns them); by default the root loop handle
    of the running weft.Loop."""

    __slots__ = ("_handle", "_loop", "__weakref__")

    def __init__(self, handle, loop=None):
        if loop is None and handle is not None:
            loop = loop_handle_of()
        if handle is None or loop is None:
            raise errors.from_status(capi.WEFT_ERR_INVALID_ARGUMENT, "Future needs a future and a loop handle")
        self._handle = handle
        self._loop = loop

    # -- construction ---------------------------------------------------
    @classmethod
    def create(cls, loop=None):
        """A new pending weft future in ``loop``'s scope (weft loop thread)."""
        loop = loop if loop is not None else loop_handle_of()
        return cls(capi.weft_future_create(loop), loop)

    @classmethod
    def from_address(cls, address, loop=None):
        """A weft.Future for the C future at ``address`` (e.g. returned by a
        C plugin through ctypes), taking a reference of its own."""
        handle = capi.handle_from_address(address, "weft_future_t")
        capi.weft_future_retain(handle)
        return cls(handle, loop)

    @classmethod
    def from_awaitable(cls, awaitable, loop=None, *, asyncio_loop=None):
        """A weft future with the outcome of ``awaitable`` (a coroutine, task
        or asyncio future) run on ``asyncio_loop`` (default: the running
        loop), in weft loop handle ``loop``'s scope (default: the running
        weft.Loop's). Call on the weft loop thread. The value resolves the weft
        future (converted as weft.capi values are); a weft.Error rejects it
        with its status, any other exception with WEFT_ERR_EXCEPTION and
        "Type: text". Cancelling the weft future cancels the awaitable, and
        a cancelled awaitable cancels the weft future."""
        if asyncio_loop is None:
            asyncio_loop = asyncio.get_running_loop()
        if loop is None:
            loop = loop_handle_of(asyncio_loop)
        future = cls.create(loop)
        handle = future._handle
        if _running_loop() is asyncio_loop:
            task = asyncio.ensure_future(awaitable, loop=asyncio_loop)
            cancel_task = task.cancel
        else:
            task = asyncio.run_coroutine_threadsafe(_await(awaitable), asyncio_loop)
            cancel_task = task.cancel  # thread-safe: cancels the task on its loop
        capi.weft_future_retain(handle)  # for the completion, released by it

        def complete(done):
            try:
                if done.cancelled():
                    capi.weft_future_cancel(handle)
                    return
                exception = done.exception()
                if exception is None:
                    capi.weft_future_resolve(handle, done.result())
                elif isinstance(exception, errors.Error) and isinstance(exception.status, int) \
                        and exception.status < 0:
                    capi.weft_future_reject(handle, exception.status, exception.message)
                else:
                    capi.weft_future_reject(handle, capi.WEFT_ERR_EXCEPTION,
                                            "%s: %s" % (type(exception).__name__, exception))
            except (errors.AlreadyCompletedError, errors.StaleHandleError):
                pass  # cancelled from the weft side first, or the runtime is gone
            finally:
                try:
                    capi.weft_future_release(handle)
                except errors.StaleHandleError:
                    pass

        task.add_done_callback(complete)

        def on_weft_outcome(status, value, message):
            if status == _CANCELLED and not task.done():
                if isinstance(task, concurrent.futures.Future):
                    cancel_task()
                else:
                    _call_in(asyncio_loop, cancel_task)

        future._then(on_weft_outcome)
        return future

    # -- state ----------------------------------------------------------
    @property
    def handle(self):
        """The weft_future_t handle (weft.capi), borrowed."""
        if self._handle is None:
            raise errors.from_status(capi.WEFT_ERR_STALE_HANDLE, "this weft.Future was closed")
        return self._handle

    @property
    def address(self):
        """The C address of the weft_future_t (for C code through ctypes)."""
        return capi.address_of(self.handle)

    def _outcome(self):
        try:
            return capi.weft_future_result(self.handle)
        except errors.NotReadyError:
            return None

    def done(self):
        return self._outcome() is not None

    def cancelled(self):
        outcome = self._outcome()
        return outcome is not None and outcome[0] == _CANCELLED

    def result(self):
        """The value; raises asyncio.CancelledError if cancelled, the
        weft.Error for a failure, weft.NotReadyError while pending."""
        status, value, message = capi.weft_future_result(self.handle)
        if status == _OK:
            return value
        if status == _CANCELLED:
            raise asyncio.CancelledError(message)
        raise errors.from_status(status, message)

    def exception(self):
        status, value, message = capi.weft_future_result(self.handle)
        if status == _CANCELLED:
            raise asyncio.CancelledError(message)
        return None if status == _OK else errors.from_status(status, message)

    # -- completing -----------------------------------------------------
    def set_result(self, value):
        capi.weft_future_resolve(self.handle, value)

    def set_exception(self, exception):
        if isinstance(exception, errors.Error) and exception.status is not None and exception.status < 0:
            capi.weft_future_reject(self.handle, exception.status, exception.message)
        else:
            capi.weft_future_reject(self.handle, capi.WEFT_ERR_EXCEPTION,
                                    "%s: %s" % (type(exception).__name__, exception))

    def cancel(self):
        """Cancels the weft future (any thread); True if it was pending."""
        try:
            capi.weft_future_cancel(self.handle)
            return True
        except errors.AlreadyCompletedError:
            return False

    # -- callbacks ------------------------------------------------------
    def _then(self, callback):
        """callback(status, value, message) on the weft loop thread, exactly
        once; registered from any thread."""
        handle, loop = self.handle, self._loop
        try:
            capi.weft_future_then(handle, loop, callback)
            return
        except errors.WrongThreadError:
            pass
        capi.weft_future_retain(handle)  # until the registration ran

        def register(status, message):
            try:
                if status == _OK:
                    capi.weft_future_then(handle, loop, callback)
                else:
                    callback(status, None, message)
            finally:
                capi.weft_future_release(handle)

        capi.weft_loop_call_soon_threadsafe(loop, register)

    def add_done_callback(self, fn):
        """fn(self) once the future completes, on the weft loop thread."""
        self._then(lambda status, value, message: fn(self))

    def __await__(self):
        return wrap_future(self).__await__()

    # -- lifetime -------------------------------------------------------
    def close(self):
        """Drops this object's reference (any thread); idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                capi.weft_future_release(handle)
            except errors.StaleHandleError:
                pass  # its runtime was destroyed: nothing left to release

    def __del__(self):
        self.close()

    def __repr__(self):
        if self._handle is None:
            return "<weft.Future closed>"
        outcome = self._outcome()
        state = "pending" if outcome is None else ("cancelled" if outcome[0] == _CANCELLED else
                                                  "finished" if outcome[0] == _OK else "failed")
        return "<weft.Future %s at 0x%x>" % (state, self.address)


def wrap_future(future, *, loop=None):
    """An asyncio future (on ``loop``, default the running loop) with the
    outcome of the weft.Future ``future``: its value, its failure as the
    weft.Error subclass, or cancelled. Cancelling the asyncio future
    cancels the weft future."""
    if loop is None:
        loop = asyncio.get_running_loop()
    result = loop.create_future()

    def apply(status, value, message):
        if result.done():
            return
        if status == _OK:
            result.set_result(value)
        elif status == _CANCELLED:
            result.cancel(message)
        else:
            result.set_exception(errors.from_status(status, message))

    def on_outcome(status, value, message):  # the weft loop thread
        _call_in(loop, apply, status, value, message)

    handle = future.handle
    capi.weft_future_retain(handle)  # the asyncio side's own reference

    def on_asyncio_done(done):
        try:
            if done.cancelled():
                try:
                    capi.weft_future_cancel(handle)
                except errors.AlreadyCompletedError:
                    pass
        finally:
            try:
                capi.weft_future_release(handle)
            except errors.StaleHandleError:
                pass

    result.add_done_callback(on_asyncio_done)
    future._then(on_outcome)
    return result


def runtime_of(loop=None):
    """The weft.capi runtime handle a weft.Loop runs on (default: the
    running loop), to hand to C (weft.capi.address_of) or to use with
    weft.capi; borrowed, valid until the loop is closed."""
    if loop is None:
        loop = asyncio.get_running_loop()
    address = getattr(loop, "_runtime_address", None)
    if address is None:
        raise errors.from_status(capi.WEFT_ERR_INVALID_ARGUMENT,
                                 "%r is not an open weft.Loop" % (loop,))
    return capi.handle_from_address(address, "weft_runtime_t")


def loop_handle_of(loop=None):
    """The root weft loop handle (weft_loop_t) of a weft.Loop's runtime."""
    return capi.weft_runtime_loop(runtime_of(loop))


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _call_in(loop, fn, *args):
    """fn(*args) on asyncio ``loop``: now if it is this thread's running
    loop, else through call_soon_threadsafe (dropped if it is closed)."""
    if _running_loop() is loop:
        fn(*args)
        return
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass  # the loop is closed: nobody is waiting any more


async def _await(awaitable):
    return await awaitable


