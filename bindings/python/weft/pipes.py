"""weft.pipes: the pipe transports of weft.Loop (connect_read_pipe,
connect_write_pipe, and a child process's stdin/stdout/stderr) on weft's
byte streams (weft/stream.h, weft/pipe.h), not on Python's selectors.

- ReadPipeTransport (an asyncio.ReadTransport) keeps one weft_stream_read
  pending while reading; each chunk (up to 256 KiB) goes to
  protocol.data_received from weft's read callback (on the loop thread, with
  the loop running; an exception from the protocol fails the transport). pause_reading stops asking
  for more: a read already pending that completes while paused keeps its
  bytes until resume_reading (weft's own read-ahead buffer and then the
  kernel's hold the rest). End of stream: eof_received, then
  connection_lost(None).
- WritePipeTransport (an asyncio.WriteTransport with asyncio's write
  flow control: set_write_buffer_limits, pause_writing/resume_writing on the
  protocol) hands each write to weft_stream_write, which copies the bytes
  and queues what the kernel does not take; get_write_buffer_size is what
  weft has queued (weft_stream_write_buffered). close()/write_eof() close the
  pipe once the queued bytes are out; abort() drops them. The reader going
  away ends it (connection_lost) even while nothing is written, as asyncio's.
- connection_lost is called once, from a loop callback, after which the
  weft stream is closed and the pipe object (if one was given) too.

A pipe given as a file object (or fd) is adopted through a duplicate of its
descriptor (weft_pipe_open takes ownership of the duplicate); the object
itself is closed with the transport, as asyncio does. A child's pipe comes
as a weft stream already (StreamPipe, from weft.subprocess).

Thread: the loop's thread. weft's callbacks (SWIG trampolines, weft.capi)
run there while the loop runs; they call the protocol (data_received,
pause_writing/resume_writing) and never raise into weft (_guarded).
"""
import asyncio
import os
import stat
import warnings

from asyncio import transports

from . import capi
from . import errors

_OK = capi.WEFT_OK
_EOF = capi.WEFT_ERR_END_OF_FILE
_CANCELLED = capi.WEFT_ERR_CANCELLED
# As asyncio: warn about writes to a lost pipe after this many.
_LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5
_READ_SIZE = 256 * 1024

__all__ = ["StreamPipe", "ReadPipeTransport", "WritePipeTransport", "connect_read_pipe",
           "connect_write_pipe"]


class StreamPipe:
    """A weft stream standing for a pipe object (a child's stdin/stdout/stderr
    taken from weft_process_*): what connect_*_pipe accept besides files."""

    def __init__(self, loop, stream, name):
        self.loop = loop
        self.stream = stream
        self.name = name

    def __repr__(self):
        return f"<weft stream pipe {self.name}>"

    def close(self):
        # The transport that took the stream closes it; one never connected
        # is closed here.
        stream, self.stream = self.stream, None
        if stream is not None:
            _close_stream(self.loop, stream)


def _close_stream(loop, stream):
    # A closed loop destroyed its runtime, and every stream with it.
    if loop.is_closed():
        return
    try:
        capi.weft_stream_close(stream)
    except errors.Error:
        pass  # ended already (the runtime or its scope went first)


def _release(future):
    capi.weft_future_release(future)


def _open_stream(loop, pipe):
    """(weft stream, pipe object to close with the transport, its kind:
    "socket", "fifo", "device" or "child")."""
    if isinstance(pipe, StreamPipe):
        stream, pipe.stream = pipe.stream, None
        if stream is None:
            raise ValueError("this pipe is connected to a transport already")
        return stream, None, "child"
    fd = pipe if isinstance(pipe, int) else pipe.fileno()
    mode = os.fstat(fd).st_mode
    if stat.S_ISSOCK(mode):
        kind = "socket"
    elif stat.S_ISFIFO(mode):
        kind = "fifo"
    elif stat.S_ISCHR(mode):
        kind = "device"
    else:
        raise ValueError("Pipe transport is for pipes/sockets only.")
    duplicate = os.dup(fd)
    try:
        stream = capi.weft_pipe_open(loop._weft_loop_handle(), duplicate)
    except BaseException:
        os.close(duplicate)
        raise
    return stream, pipe, kind


class _PipeTransport:
    """What the two pipe transports share: the stream, closing once."""

    def _init_pipe(self, loop, stream, pipe, protocol):
        self._extra["pipe"] = pipe
        self._loop = loop
        self._stream = stream
        self._pipe = pipe
        self._protocol = protocol
        self._closing = False
        self._lost = False

    def __repr__(self):
        state = "closed" if self._stream is None else ("closing" if self._closing else "open")
        return f"<{type(self).__name__} {state} pipe={self._pipe!r}>"

    def is_closing(self):
        return self._closing

    def set_protocol(self, protocol):
        self._protocol = protocol

    def get_protocol(self):
        return self._protocol

    def __del__(self, _warn=warnings.warn):
        if self._stream is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self._end_stream()
            if self._pipe is not None:
                self._pipe.close()

    def _fatal_error(self, exc, message):
        if isinstance(exc, OSError):
            if self._loop.get_debug():
                asyncio.log.logger.debug("%r: %s", self, message, exc_info=True)
        else:
            self._loop.call_exception_handler({
                "message": message,
                "exception": exc,
                "transport": self,
                "protocol": self._protocol,
            })
        self._force_close(exc)

    def _force_close(self, exc):
        """Closes now (queued bytes dropped); connection_lost(exc) soon."""
        self._closing = True
        self._end_stream()
        if self._loop.is_closed():
            # Nothing runs any more: no connection_lost (as asyncio's
            # transports, which cannot call it either), the pipe closed now.
            self._lost = True
            if self._pipe is not None:
                self._pipe.close()
                self._pipe = None
            return
        if not self._lost:
            self._lost = True
            self._loop.call_soon(self._call_connection_lost, exc)

    def _end_stream(self):
        stream, self._stream = self._stream, None
        if stream is not None:
            _close_stream(self._loop, stream)

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._end_stream()
            if self._pipe is not None:
                self._pipe.close()
                self._pipe = None
            self._protocol = None
            self._loop = None


class ReadPipeTransport(_PipeTransport, transports.ReadTransport):
    """asyncio.ReadTransport over a weft stream (see the module docstring)."""

    def __init__(self, loop, stream, pipe, protocol, waiter=None, extra=None, kind=None):
        super().__init__(extra)
        self._init_pipe(loop, stream, pipe, protocol)
        self._paused = False
        self._reading = False  # a weft read is pending
        self._held = None      # a chunk read while paused: (status, message, data)
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self._read_more)  # reading starts once connection_made ran
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def _read_more(self):
        if self._reading or self._paused or self._closing or self._stream is None:
            return
        try:
            _release(capi.weft_stream_read(self._stream, _READ_SIZE, self._on_read))
        except errors.Error as exc:
            self._fatal_error(exc, "Fatal read error on pipe transport")
            return
        self._reading = True

    def _on_read(self, status, message, data):
        # weft's callback, on the loop thread with the loop running: the
        # bytes go to the protocol now (a hop through call_soon would cost
        # a loop iteration per chunk).
        self._reading = False
        if status == _CANCELLED or self._closing:
            return
        if self._paused:
            self._held = (status, message, data)
            return
        _guarded(self, self._deliver, status, message, data)

    def _deliver(self, status, message, data):
        if self._closing:
            return
        if status == _OK:
            self._protocol.data_received(data)
            self._read_more()
        elif status == _EOF:
            if self._loop.get_debug():
                asyncio.log.logger.info("%r was closed by peer", self)
            self._closing = True
            self._end_stream()
            self._lost = True
            self._loop.call_soon(self._protocol.eof_received)
            self._loop.call_soon(self._call_connection_lost, None)
        else:
            self._fatal_error(errors.from_status(status, message),
                              "Fatal read error on pipe transport")

    def pause_reading(self):
        if self._closing or self._paused:
            return
        self._paused = True
        if self._loop.get_debug():
            asyncio.log.logger.debug("%r pauses reading", self)

    def resume_reading(self):
        if self._closing or not self._paused:
            return
        self._paused = False
        held, self._held = self._held, None
        if held is not None:
            self._loop.call_soon(self._deliver, *held)
        else:
            self._read_more()
        if self._loop.get_debug():
            asyncio.log.logger.debug("%r resumes reading", self)

    def is_reading(self):
        return not self._paused and not self._closing

    def close(self):
        if not self._closing:
            self._force_close(None)


class WritePipeTransport(_PipeTransport, transports._FlowControlMixin, transports.WriteTransport):
    """asyncio.WriteTransport over a weft stream (see the module docstring)."""

    def __init__(self, loop, stream, pipe, protocol, waiter=None, extra=None, kind=None):
        super().__init__(extra, loop)
        self._init_pipe(loop, stream, pipe, protocol)
        self._writes_pending = 0
        self._conn_lost_writes = 0
        self._peer_watch = None  # (weft fd watch, the descriptor it watches)
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self._watch_peer, kind)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    # The reading end going away (the reader closed, the child exited) ends
    # the transport even when nothing is written, as asyncio's does: a
    # socket's end reads EOF then (a weft read on the stream, whose bytes,
    # if the peer writes any, are dropped); a FIFO's write end turns
    # readable, with an error (weft's fd watch on a duplicate of it). A
    # child's stdin is write-only to weft: its transport learns of the
    # child's exit from weft.subprocess (_peer_gone).
    def _watch_peer(self, kind):
        if self._closing or self._stream is None:
            return
        try:
            if kind == "socket":
                _release(capi.weft_stream_read(self._stream, 65536, self._on_peer_read))
            elif kind == "fifo" and self._pipe is not None:
                fd = os.dup(self._pipe.fileno())
                try:
                    watch = capi.weft_fd_watch(self._loop._weft_loop_handle(), fd)
                except BaseException:
                    os.close(fd)
                    raise
                self._peer_watch = (watch, fd)
                _release(capi.weft_fd_wait(watch, capi.WEFT_FD_READABLE, self._on_peer_event))
        except (errors.Error, OSError) as exc:
            self._fatal_error(exc, "Fatal error watching a pipe transport's reader")

    def _on_peer_read(self, status, message, data):
        if status == _CANCELLED or self._stream is None:
            return
        if status == _OK:
            self._loop.call_soon(self._watch_peer, "socket")
        else:
            self._loop.call_soon(self._peer_gone)

    def _on_peer_event(self, status, message, events):
        if status != _CANCELLED:
            self._loop.call_soon(self._peer_gone)

    def _peer_gone(self):
        if self._lost:
            return
        if self._loop.get_debug():
            asyncio.log.logger.info("%r was closed by peer", self)
        self._force_close(BrokenPipeError() if self.get_write_buffer_size() else None)

    def _end_stream(self):
        watch, self._peer_watch = self._peer_watch, None
        if watch is not None:
            if not self._loop.is_closed():
                try:
                    capi.weft_fd_watch_close(watch[0])
                except errors.Error:
                    pass
            os.close(watch[1])
        super()._end_stream()

    def get_write_buffer_size(self):
        if self._stream is None or self._writes_pending == 0:
            return 0
        return capi.weft_stream_write_buffered(self._stream)

    def write(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        if not data:
            return
        if self._lost or self._closing or self._stream is None:
            if self._conn_lost_writes >= _LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                asyncio.log.logger.warning("pipe closed by peer or os.write(pipe, data) "
                                           "raised exception.")
            self._conn_lost_writes += 1
            return
        try:
            _release(capi.weft_stream_write(self._stream, data, self._on_written))
        except errors.Error as exc:
            self._conn_lost_writes += 1
            self._fatal_error(exc, "Fatal write error on pipe transport")
            return
        self._writes_pending += 1
        self._maybe_pause_protocol()

    def _on_written(self, status, message):
        # weft's callback, on the loop thread with the loop running.
        self._writes_pending -= 1
        _guarded(self, self._written, status, message)

    def _written(self, status, message):
        if status == _CANCELLED or self._stream is None:
            return
        if status != _OK:
            self._conn_lost_writes += 1
            self._loop.call_soon(self._fatal_error, errors.from_status(status, message),
                                 "Fatal write error on pipe transport")
            return
        self._maybe_resume_protocol()
        if self._closing and self._writes_pending == 0 and not self._lost:
            self._lost = True
            self._end_stream()
            self._loop.call_soon(self._call_connection_lost, None)

    def can_write_eof(self):
        return True

    def write_eof(self):
        if self._closing:
            return
        if self._loop.is_closed():
            self._force_close(None)
            return
        self._closing = True
        if self._writes_pending == 0:
            self._lost = True
            self._end_stream()
            self._loop.call_soon(self._call_connection_lost, None)

    def close(self):
        if self._stream is not None and not self._closing:
            self.write_eof()

    def abort(self):
        if not self._lost:
            self._force_close(None)


def _guarded(transport, method, *args):
    """Runs a transport's reaction to a weft callback, which must not raise
    into weft: KeyboardInterrupt/SystemExit go to the loop (run_forever
    raises them), anything else fails the transport as asyncio's socket
    transports fail on a protocol error."""
    loop = transport._loop
    try:
        method(*args)
    except (SystemExit, KeyboardInterrupt) as exc:
        loop.call_soon(_raise, exc)
    except BaseException as exc:
        if transport._loop is not None:
            transport._fatal_error(exc, "Fatal error: protocol call from a pipe transport failed.")
        else:
            loop.call_exception_handler({"message": "protocol call from a pipe transport failed",
                                         "exception": exc, "transport": transport})


def _raise(exc):
    raise exc


def _set_result_unless_cancelled(future, result):
    if not future.cancelled():
        future.set_result(result)


async def connect_read_pipe(loop, protocol_factory, pipe):
    """loop.connect_read_pipe: (transport, protocol)."""
    return await _connect(loop, ReadPipeTransport, protocol_factory, pipe)


async def connect_write_pipe(loop, protocol_factory, pipe):
    """loop.connect_write_pipe: (transport, protocol)."""
    return await _connect(loop, WritePipeTransport, protocol_factory, pipe)


async def _connect(loop, transport_class, protocol_factory, pipe):
    protocol = protocol_factory()
    stream, owned_pipe, kind = _open_stream(loop, pipe)
    waiter = loop.create_future()
    transport = transport_class(loop, stream, owned_pipe, protocol, waiter, kind=kind)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    if loop.get_debug():
        asyncio.log.logger.debug("%r connected: (%r, %r)", pipe, transport, protocol)
    return transport, protocol
