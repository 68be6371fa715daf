"""weft.loop: weft.Loop, an asyncio event loop running on a weft runtime.

Using it
--------
    import weft
    weft.run(main())                      # asyncio.run on a weft loop
    weft.install(); asyncio.run(main())   # asyncio's policy makes weft loops
    asyncio.Runner(loop_factory=weft.new_event_loop)

weft.Loop is an asyncio.AbstractEventLoop with asyncio's scheduling surface:
call_soon/call_later/call_at/call_soon_threadsafe, time, run_forever,
run_until_complete, stop, close, create_future, create_task (name,
context), the task factory, the exception handler, debug mode,
shutdown_asyncgens, run_in_executor/set_default_executor/
shutdown_default_executor, getaddrinfo/getnameinfo (on the default
executor), add_reader/add_writer/remove_*, add_signal_handler/
remove_signal_handler.

Stream sockets come from two mixins: weft.servers.NetworkMethods
(create_connection, create_server, create_unix_connection,
create_unix_server, connect_accepted_socket, start_tls: asyncio's own
functions, so arguments, errors, happy eyeballs and the asyncio.Server are
asyncio's) and weft.sockets.SocketMethods (sock_recv, sock_recv_into,
sock_recvfrom, sock_recvfrom_into, sock_sendall, sock_sendto, sock_connect,
sock_accept on weft fd watches, and the servers' accepting). Each connection
is a weft.transports.SocketTransport, an asyncio.Transport on a weft stream
whose reads and writes are C (native/stream_transport.c); TLS is asyncio's
SSLProtocol over it. weft.sendfile.SendfileMethods has sendfile and
sock_sendfile (os.sendfile on the socket, or asyncio's fallback of reading
and writing).

Subprocesses, pipes and datagrams:
- subprocess_exec/subprocess_shell (so asyncio.create_subprocess_exec and
  create_subprocess_shell work unchanged): children spawned by weft
  (weft_process_spawn, exit seen by weft_process_wait, pipes as weft
  streams) when stdin/stdout/stderr are PIPE, DEVNULL or None and the other
  options are cwd and env; with a file or descriptor, stderr=STDOUT or
  Popen-only options, spawned by subprocess.Popen with the pipes adopted as
  weft streams and the exit watched through a pidfd. The transport is an
  asyncio.SubprocessTransport (weft.subprocess).
- connect_read_pipe/connect_write_pipe: asyncio.ReadTransport/
  WriteTransport over weft streams (weft_pipe_open on a duplicate of the
  pipe's descriptor), with pause/resume reading and write flow control
  (weft.pipes).
- create_datagram_endpoint: an asyncio.DatagramTransport on a socket made
  as asyncio makes it (local_addr, remote_addr, family, reuse_port,
  allow_broadcast, sock=), its readiness from weft's fd watch
  (weft.datagram).
A Python SIGCHLD handler installed while a weft
child runs hides that child's exit from weft (see docs/python-guide.md).

The scheduling core is C (weft._capi.LoopBase, native/loop*.c): a ready
queue drained by one weft callback per iteration, a timer heap behind one
weft timer, a thread-safe inbox woken by one weft post per batch. Handles
are weft.events.Handle / TimerHandle (asyncio.Handle's methods: cancel,
cancelled, when, get_context); isinstance(h, asyncio.Handle) and
isinstance(t, asyncio.TimerHandle) hold (through __class__), type(h) is
weft's.

The default executor (weft.executors.PoolExecutor) runs Python callables on
the runtime's weft pool; any concurrent.futures.Executor may be passed.
close() waits for Python work already queued on that pool (the pool drains
before its runtime is destroyed); asyncio's close() does not wait for its
executor's threads. At interpreter exit, Python work not yet started on a
weft pool never starts, and running work is waited for.

Differences from asyncio's loop that show: within one iteration, ready
callbacks and due timers run before I/O readiness is polled (asyncio polls
first); a handle that has run drops its callback and arguments (outside
debug mode), so its repr no longer names them.

GIL and signals: the loop holds the GIL while callbacks run and releases it
while weft waits in the kernel (weft_loop_set_wait_hook), and right after a
batch of call_soon_threadsafe callbacks that left nothing to run. Running on
the main thread, the loop owns signal.set_wakeup_fd (a watched socketpair),
so Ctrl-C interrupts run_forever within a millisecond or so even while the
loop sleeps.

Host-driven stepping
--------------------
A C or C++ host that owns a weft runtime and steps it each frame can run
Python coroutines inside its steps:

    C host:   weft_runtime_create(&rt, NULL); weft_runtime_loop(&loop, rt);
              /* hand rt to Python as an int: PyLong_FromVoidPtr(rt) */
              each frame: weft_loop_run_for(&report, loop, WEFT_MS(2));
              at the end: (Python: loop.close()) then weft_runtime_destroy(rt)
    Python:   loop = weft.attach_loop(runtime)   # or weft.Loop.attach(runtime)
              loop.create_task(game_logic())

`runtime` is the weft_runtime_t* as an int, a PyCapsule holding it, or a
weft.capi runtime object. Callbacks, timers and tasks of the attached loop
run only inside the host's weft_loop_run_for (or weft_loop_run) calls, on
the runtime's loop thread, with asyncio's running loop set to it for the
duration of each batch (asyncio.get_running_loop(), asyncio.sleep,
create_task work). The host may call weft_loop_run_for holding the GIL or
not: the loop takes it (PyGILState_Ensure) only when the calling thread does
not hold it. Call the loop's methods from the loop thread (the host's) or
call_soon_threadsafe from any thread. An attached loop cannot run_forever;
loop.close() leaves the runtime to the host, who destroys it after closing
the loop. A KeyboardInterrupt or SystemExit raised by a callback goes to
sys.unraisablehook (there is no run_forever to raise it from).

Threads: a Loop runs on the thread that calls run_forever (or, attached, on
the host's loop thread); call_soon_threadsafe may be called from any thread,
everything else from the loop's thread.
"""
import asyncio
import concurrent.futures
import socket
import sys
import threading
import warnings
import weakref

from asyncio import constants, coroutines, events, futures, tasks

from . import _capi
from . import datagram as _datagram
from . import events as _events
from . import executors as _executors
from . import futures as _futures
from . import pipes as _pipes
from . import sendfile as _sendfile
from . import servers as _servers
from . import signals as _signals
from . import sockets as _sockets
from . import subprocess as _subprocess

_capi._loop_configure(_events.handle_repr, _events.capture_stack, asyncio.Future, asyncio.Task,
                      events._set_running_loop, events._get_running_loop,
                      asyncio.Handle, asyncio.TimerHandle)


def _stop_when_done(future):
    # run_until_complete's done callback: a future that finished with
    # KeyboardInterrupt/SystemExit stops run_forever by raising itself.
    if not future.cancelled():
        exc = future.exception()
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            return
    future.get_loop().stop()


class Loop(_capi.LoopBase, _servers.NetworkMethods, _sockets.SocketMethods,
           _sendfile.SendfileMethods, asyncio.AbstractEventLoop):
    """An asyncio event loop on weft (see the package docstring)."""

    def __init__(self, runtime=None):
        self._exception_handler = None
        self._default_executor = None
        self._executor_shutdown_called = False
        self._asyncgens = weakref.WeakSet()
        self._asyncgens_shutdown_called = False
        self._origin_tracking_depth = None
        self._fd_watchers = {}
        self._signal_state = None
        self._loop_handle = None
        self.set_debug(coroutines._is_debug_mode())

    @classmethod
    def attach(cls, runtime):
        """A Loop on a host's runtime: `runtime` is the weft_runtime_t* as an
        int, a capsule, or a weft.capi runtime. The host steps it with
        weft_loop_run_for; callbacks run inside those steps."""
        return cls(runtime=runtime)

    def __repr__(self):
        return (f"<{type(self).__name__} running={self.is_running()} "
                f"closed={self.is_closed()} debug={self.get_debug()}>")

    # -- running -----------------------------------------------------------

    def _check_closed(self):
        if self.is_closed():
            raise RuntimeError("Event loop is closed")

    def _check_not_running(self):
        if self.is_running():
            raise RuntimeError("This event loop is already running")
        if events._get_running_loop() is not None:
            raise RuntimeError("Cannot run the event loop while another loop is running")

    def run_forever(self):
        self._check_closed()
        self._check_not_running()
        if self.hosted:
            raise RuntimeError("this loop is stepped by its host; it cannot run_forever")
        self._set_coroutine_origin_tracking(self.get_debug())
        old_hooks = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(firstiter=self._asyncgen_firstiter_hook,
                               finalizer=self._asyncgen_finalizer_hook)
        events._set_running_loop(self)
        if self._signal_state is None:
            self._signal_state = _signals.SignalState(self)
        self._signal_state.start_running()
        call_soon = self._cache_call_soon()
        try:
            self._run()
        finally:
            self._uncache_call_soon(call_soon)
            self._signal_state.stop_running()
            events._set_running_loop(None)
            self._set_coroutine_origin_tracking(False)
            sys.set_asyncgen_hooks(*old_hooks)

    # asyncio's C Task and Future look up loop.call_soon for every step and
    # callback they schedule; each lookup of a method makes a bound method,
    # an object the cyclic GC tracks (W6: three per task). While the loop
    # runs (when the running loop holds it anyway, so no lifetime changes),
    # the instance dict holds one bound call_soon that every lookup returns.
    # Not when a subclass defines call_soon or the instance has its own;
    # one set during the run is left alone.
    def _cache_call_soon(self):
        attrs = self.__dict__
        if "call_soon" in attrs or type(self).call_soon is not _capi.LoopBase.call_soon:
            return None
        bound = attrs["call_soon"] = _capi.LoopBase.call_soon.__get__(self)
        return bound

    def _uncache_call_soon(self, bound):
        if bound is not None and self.__dict__.get("call_soon") is bound:
            del self.__dict__["call_soon"]

    def run_until_complete(self, future):
        self._check_closed()
        self._check_not_running()
        new_task = not futures.isfuture(future)
        future = tasks.ensure_future(future, loop=self)
        if new_task:
            # The caller sees the outcome: no "destroyed but pending" log.
            future._log_destroy_pending = False
        future.add_done_callback(_stop_when_done)
        try:
            self.run_forever()
        except BaseException:
            if new_task and future.done() and not future.cancelled():
                future.exception()  # retrieved: the caller gets it raised
            raise
        finally:
            future.remove_done_callback(_stop_when_done)
        if not future.done():
            raise RuntimeError("Event loop stopped before Future completed.")
        return future.result()

    def close(self):
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self.is_closed():
            return
        for fd in list(self._fd_watchers):
            self._fd_close_watch(fd)
        self._loop_handle = None
        if self._signal_state is not None:
            self._signal_state.close()
        self._executor_shutdown_called = True
        executor, self._default_executor = self._default_executor, None
        if executor is not None:
            executor.shutdown(wait=False)
        self._close()

    def __del__(self, _warn=warnings.warn):
        if not self.is_closed():
            _warn(f"unclosed event loop {self!r}", ResourceWarning, source=self)
            if not self.is_running() and not self.hosted:
                try:
                    self.close()
                except RuntimeError:
                    pass

    # -- tasks -------------------------------------------------------------

    # create_task, set_task_factory and get_task_factory are C
    # (LoopBase); with a task factory or in debug mode create_task comes here.
    def _create_task_slow(self, coro, name, context):
        factory = self.get_task_factory()
        if factory is None:
            task = tasks.Task(coro, loop=self, name=name, context=context)
            if task._source_traceback:
                del task._source_traceback[-1]  # this frame
            return task
        if context is None:
            task = factory(self, coro)
        else:
            task = factory(self, coro, context=context)
        if name is not None:
            try:
                task.set_name(name)
            except AttributeError:
                pass
        return task

    # -- errors and debug ----------------------------------------------------

    def get_exception_handler(self):
        return self._exception_handler

    def set_exception_handler(self, handler):
        if handler is not None and not callable(handler):
            raise TypeError(f"A callable object or None is expected, got {handler!r}")
        self._exception_handler = handler

    def default_exception_handler(self, context):
        _events.default_exception_report(context)

    def call_exception_handler(self, context):
        handler = self._exception_handler
        if handler is None:
            try:
                self.default_exception_handler(context)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException:
                _events.logger.error("Exception in default exception handler", exc_info=True)
            return
        try:
            handler(self, context)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            try:
                self.default_exception_handler({
                    "message": "Unhandled error in exception handler",
                    "exception": exc,
                    "context": context,
                })
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException:
                _events.logger.error(
                    "Exception in default exception handler while handling an "
                    "unexpected error in custom exception handler", exc_info=True)

    def _report_callback_error(self, handle, exc):
        # Called by the C core for an exception escaping a callback.
        self.call_exception_handler(_events.callback_error_context(handle, exc))

    def _report_slow_callback(self, handle, seconds):
        _events.log_slow_callback(handle, seconds)

    def set_debug(self, enabled):
        enabled = bool(enabled)
        self._set_debug_flag(enabled)
        if self.is_running():
            self.call_soon_threadsafe(self._set_coroutine_origin_tracking, enabled)

    def _set_coroutine_origin_tracking(self, enabled):
        if bool(enabled) == (self._origin_tracking_depth is not None):
            return
        if enabled:
            self._origin_tracking_depth = sys.get_coroutine_origin_tracking_depth()
            sys.set_coroutine_origin_tracking_depth(constants.DEBUG_STACK_DEPTH)
        else:
            sys.set_coroutine_origin_tracking_depth(self._origin_tracking_depth)
            self._origin_tracking_depth = None

    # -- async generators ------------------------------------------------------

    def _asyncgen_firstiter_hook(self, agen):
        if self._asyncgens_shutdown_called:
            warnings.warn(f"asynchronous generator {agen!r} was scheduled after "
                          f"loop.shutdown_asyncgens() call", ResourceWarning, source=self)
        self._asyncgens.add(agen)

    def _asyncgen_finalizer_hook(self, agen):
        self._asyncgens.discard(agen)
        if not self.is_closed():
            self.call_soon_threadsafe(self.create_task, agen.aclose())

    async def shutdown_asyncgens(self):
        self._asyncgens_shutdown_called = True
        if not self._asyncgens:
            return
        closing = list(self._asyncgens)
        self._asyncgens.clear()
        results = await tasks.gather(*[agen.aclose() for agen in closing],
                                     return_exceptions=True)
        for result, agen in zip(results, closing):
            if isinstance(result, Exception):
                self.call_exception_handler({
                    "message": f"an error occurred during closing of asynchronous "
                               f"generator {agen!r}",
                    "exception": result,
                    "asyncgen": agen,
                })

    # -- executors ---------------------------------------------------------------

    def _get_default_executor(self):
        if self._executor_shutdown_called:
            raise RuntimeError("Executor shutdown has been called")
        if self._default_executor is None:
            self._default_executor = _executors.PoolExecutor(self)
        return self._default_executor

    def run_in_executor(self, executor, func, *args):
        self._check_closed()
        if self.get_debug() and (coroutines.iscoroutine(func) or
                                 coroutines.iscoroutinefunction(func)):
            raise TypeError("coroutines cannot be used with run_in_executor()")
        if not callable(func):
            raise TypeError(f"a callable object was expected by run_in_executor(), got {func!r}")
        if executor is None:
            executor = self._get_default_executor()
        if isinstance(executor, _executors.PoolExecutor) and executor._loop is self:
            return executor._submit_for_loop(func, args)
        return futures.wrap_future(executor.submit(func, *args), loop=self)

    def set_default_executor(self, executor):
        if not isinstance(executor, concurrent.futures.Executor):
            raise TypeError("executor must be a concurrent.futures.Executor")
        self._default_executor = executor

    async def shutdown_default_executor(self):
        self._executor_shutdown_called = True
        executor = self._default_executor
        if executor is None:
            return
        done = self.create_future()

        def shut_down():
            try:
                executor.shutdown(wait=True)
            except Exception as exc:
                outcome = (done.set_exception, exc)
            else:
                outcome = (done.set_result, None)
            if not self.is_closed():
                self.call_soon_threadsafe(
                    lambda: done.done() or outcome[0](outcome[1]))

        thread = threading.Thread(target=shut_down, name="weft-executor-shutdown")
        thread.start()
        try:
            await done
        finally:
            thread.join()

    # -- name resolution (off the loop thread: the default executor) -------------

    async def getaddrinfo(self, host, port, *, family=0, type=0, proto=0, flags=0):
        return await self.run_in_executor(None, socket.getaddrinfo, host, port,
                                          family, type, proto, flags)

    async def getnameinfo(self, sockaddr, flags=0):
        return await self.run_in_executor(None, socket.getnameinfo, sockaddr, flags)

    # -- file descriptors (weft_fd_watch, native/fdwatch.c) ------------------------

    def _watcher(self, fd, create):
        watcher = self._fd_watchers.get(fd)
        if watcher is None and create:
            watcher = self._fd_watchers[fd] = _capi.FdWatcher(self, fd)
        return watcher

    def _fd_close_watch(self, fd):
        watcher = self._fd_watchers.pop(fd, None)
        if watcher is not None:
            watcher.close()

    def add_reader(self, fd, callback, *args):
        self._check_closed()
        fd = _fileobj_to_fd(fd)
        handle = self._handle(callback, *args)
        self._watcher(fd, True).set_reader(handle)

    def add_writer(self, fd, callback, *args):
        self._check_closed()
        fd = _fileobj_to_fd(fd)
        handle = self._handle(callback, *args)
        self._watcher(fd, True).set_writer(handle)

    def _remove(self, fd, remove):
        if self.is_closed():
            return False
        fd = _fileobj_to_fd(fd)
        watcher = self._watcher(fd, False)
        if watcher is None:
            return False
        removed = remove(watcher)
        if watcher.reader is None and watcher.writer is None:
            self._fd_close_watch(fd)
        return removed

    def remove_reader(self, fd):
        return self._remove(fd, _capi.FdWatcher.remove_reader)

    def remove_writer(self, fd):
        return self._remove(fd, _capi.FdWatcher.remove_writer)

    # -- signals (weft/signals.py) -------------------------------------------------

    def add_signal_handler(self, sig, callback, *args):
        if coroutines.iscoroutine(callback) or coroutines.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with add_signal_handler()")
        self._check_closed()
        if self._signal_state is None:
            self._signal_state = _signals.SignalState(self)
        self._signal_state.add(sig, self._handle(callback, *args))

    def remove_signal_handler(self, sig):
        if self._signal_state is None:
            _signals.check_signal(sig)
            return False
        return self._signal_state.remove(sig)

    # -- subprocesses, pipes, datagrams (weft/subprocess.py, pipes.py, datagram.py)

    def _weft_loop_handle(self):
        """The weft.capi loop handle (weft_loop_t) of this loop's runtime."""
        self._check_closed()
        if self._loop_handle is None:
            self._loop_handle = _futures.loop_handle_of(self)
        return self._loop_handle

    async def subprocess_exec(self, protocol_factory, program, *args, **kwargs):
        return await _subprocess.subprocess_exec(self, protocol_factory, program, *args,
                                                 **kwargs)

    async def subprocess_shell(self, protocol_factory, cmd, **kwargs):
        return await _subprocess.subprocess_shell(self, protocol_factory, cmd, **kwargs)

    async def connect_read_pipe(self, protocol_factory, pipe):
        return await _pipes.connect_read_pipe(self, protocol_factory, pipe)

    async def connect_write_pipe(self, protocol_factory, pipe):
        return await _pipes.connect_write_pipe(self, protocol_factory, pipe)

    async def create_datagram_endpoint(self, protocol_factory, local_addr=None,
                                       remote_addr=None, **kwargs):
        return await _datagram.create_datagram_endpoint(self, protocol_factory, local_addr,
                                                        remote_addr, **kwargs)


def _fileobj_to_fd(fileobj):
    if isinstance(fileobj, int):
        fd = fileobj
    else:
        try:
            fd = int(fileobj.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fileobj!r}") from None
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    return fd


__all__ = ["Loop"]
