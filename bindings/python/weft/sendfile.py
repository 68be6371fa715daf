"""weft.sendfile: SendfileMethods, weft.Loop's sendfile(transport, file,
offset, count, fallback=True) and sock_sendfile(sock, file, offset, count,
fallback=True).

Native path (zero copy): os.sendfile(2) from the file's descriptor to the
socket's, driven by the socket's writability (the loop's fd watch on it,
installed for the whole transfer, level-triggered). For a transport
(weft.transports.SocketTransport, plain TCP or Unix) the transport first
pauses reading, takes write() away (it raises RuntimeError while the
transfer runs, as asyncio's does) and waits until weft has written every
byte queued before; the file then goes straight to the socket, and the
transport gets its writing path and its reading state back at the end,
whatever the outcome (success, error, cancellation).

Fallback (fallback=True): when the native path is not available (a TLS
transport, which has asyncio's _sendfile_compatible FALLBACK; a file object
without a descriptor or whose descriptor is not a regular file; sendfile(2)
refusing before any byte went out), the file is read in chunks on the
loop's default executor and written: to a transport through its write()
with its write flow control (a stand-in protocol receives pause_writing/
resume_writing meanwhile), to a socket with sock_sendall. With
fallback=False those cases raise asyncio.SendfileNotAvailableError (a
RuntimeError; for a transport that can only fall back, its message says
"fallback is disabled", asyncio's wording for that RuntimeError).

Semantics are asyncio's: offset must be a non-negative int, count a
positive int or None (to the end of the file), the file opened in binary
mode, the socket SOCK_STREAM; the result is the number of bytes sent and
the file's position is left at offset + bytes sent (also after an error or
a cancellation, so file.tell() says how far it got). Cancelling the
awaiting task stops the transfer between two sendfile(2) calls: the
transport is usable again (write works, reading resumes) with nothing of
the file half-written in weft's queue.

Thread: the loop's thread. A transfer holds the file, socket and future
until it ends; the loop's fd watch on the socket is removed at the end.
"""
import asyncio
import errno
import io
import os
import socket
import stat

from asyncio import constants, protocols

try:
    import ssl as _ssl
except ImportError:  # pragma: no cover
    _ssl = None

from . import transports as _transports

# The most one sendfile(2) call is asked for (Linux moves at most
# 0x7ffff000 bytes per call anyway).
_MAX_BLOCK = 0x7FFFF000


def _check_file_params(file, offset, count):
    if "b" not in getattr(file, "mode", "b"):
        raise ValueError("file should be opened in binary mode")
    if count is not None:
        if not isinstance(count, int):
            raise TypeError(f"count must be a positive integer (got {count!r})")
        if count <= 0:
            raise ValueError(f"count must be a positive integer (got {count!r})")
    if not isinstance(offset, int):
        raise TypeError(f"offset must be a non-negative integer (got {offset!r})")
    if offset < 0:
        raise ValueError(f"offset must be a non-negative integer (got {offset!r})")


def _regular_file_descriptor(file):
    """The file's descriptor, or SendfileNotAvailableError when sendfile(2)
    cannot read it (no descriptor, not a regular file)."""
    if not hasattr(os, "sendfile"):
        raise asyncio.SendfileNotAvailableError("os.sendfile() is not available")
    try:
        fileno = file.fileno()
    except (AttributeError, io.UnsupportedOperation):
        raise asyncio.SendfileNotAvailableError("not a regular file") from None
    try:
        mode = os.fstat(fileno).st_mode
    except (OSError, TypeError, ValueError):
        raise asyncio.SendfileNotAvailableError("not a regular file") from None
    if not stat.S_ISREG(mode):
        raise asyncio.SendfileNotAvailableError("not a regular file")
    return fileno


class _NativeTransfer:
    """One sendfile(2) transfer to a socket descriptor, a step per
    writability; its outcome in `future` (bytes sent)."""

    def __init__(self, loop, future, fd, fileno, offset, count):
        self._loop = loop
        self._future = future
        self._fd = fd
        self._fileno = fileno
        self._start = offset
        self._offset = offset
        self._count = count
        self._sent = 0
        self._watching = False
        future.add_done_callback(self._done)

    def step(self):
        future = self._future
        if future.done():
            return
        if self._count is not None:
            block = self._count - self._sent
            if block <= 0:
                self._finish(None)
                return
        else:
            block = _MAX_BLOCK
        try:
            sent = os.sendfile(self._fd, self._fileno, self._offset, block)
        except (BlockingIOError, InterruptedError):
            self._watch()
            return
        except OSError as exc:
            if self._sent == 0:
                # Nothing went out: most often a file sendfile(2) cannot
                # read; the caller may fall back to reading and writing.
                error = asyncio.SendfileNotAvailableError(f"os.sendfile call failed: {exc}")
                error.__cause__ = exc
                self._finish(error)
            elif exc.errno == errno.ENOTCONN and not isinstance(exc, ConnectionError):
                error = ConnectionError(exc.errno, "socket is not connected")
                error.__cause__ = exc
                self._finish(error)
            else:
                self._finish(exc)
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._finish(exc)
            return
        if sent == 0:
            self._finish(None)  # the end of the file
            return
        self._offset += sent
        self._sent += sent
        if self._count is not None and self._sent >= self._count:
            self._finish(None)
            return
        # The socket took less than asked: its buffer is full; wait.
        self._watch()

    def stop(self, exc):
        """Stops now (the socket is going away): the future fails with exc."""
        if not self._future.done():
            self._finish(exc)

    def _watch(self):
        if not self._watching:
            self._watching = True
            self._loop._watcher(self._fd, True).set_writer(self._loop._handle(self.step))

    def _unwatch(self):
        if self._watching:
            self._watching = False
            self._loop.remove_writer(self._fd)

    def _finish(self, exc):
        self._unwatch()
        if self._sent:
            os.lseek(self._fileno, self._start + self._sent, os.SEEK_SET)
        if exc is None:
            self._future.set_result(self._sent)
        else:
            self._future.set_exception(exc)

    def _done(self, future):
        if future.cancelled():
            self._unwatch()
            if self._sent:
                os.lseek(self._fileno, self._start + self._sent, os.SEEK_SET)


class _FallbackWriting(protocols.Protocol):
    """Stands in for a transport's protocol while the fallback writes the
    file through it: takes pause_writing/resume_writing, passes the rest on;
    restore() hands the transport back to the protocol in the same state."""

    def __init__(self, loop, transport):
        self._loop = loop
        self._transport = transport
        self._protocol = transport.get_protocol()
        self._resume_reading = transport.is_reading()
        self._was_paused = bool(getattr(transport, "_protocol_paused", False))
        self._paused = self._was_paused
        self._lost = None
        self._waiter = None
        transport.pause_reading()
        transport.set_protocol(self)

    async def drain(self):
        if self._lost is not None or self._transport.is_closing():
            raise self._lost_error()
        while self._paused:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
            if self._lost is not None:
                raise self._lost_error()

    def _lost_error(self):
        if isinstance(self._lost, BaseException):
            return self._lost
        return ConnectionError("Connection is closed by peer")

    def _wake(self):
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def pause_writing(self):
        self._paused = True

    def resume_writing(self):
        self._paused = False
        self._wake()

    def connection_lost(self, exc):
        self._lost = exc if exc is not None else True
        self._wake()
        self._protocol.connection_lost(exc)

    def data_received(self, data):
        # Reading is paused; bytes a read already had in hand still belong
        # to the protocol.
        if isinstance(self._protocol, protocols.BufferedProtocol):
            protocols._feed_data_to_buffered_proto(self._protocol, data)
        else:
            self._protocol.data_received(data)

    def eof_received(self):
        return self._protocol.eof_received()

    def restore(self):
        transport = self._transport
        transport.set_protocol(self._protocol)
        if self._lost is not None:
            return
        if self._resume_reading:
            transport.resume_reading()
        if self._was_paused and not self._paused:
            self._protocol.resume_writing()
        elif self._paused and not self._was_paused:
            self._protocol.pause_writing()


class SendfileMethods:
    """Mixin of weft.Loop: sendfile and sock_sendfile."""

    # -- sockets ---------------------------------------------------------------

    async def sock_sendfile(self, sock, file, offset=0, count=None, *, fallback=True):
        if self.get_debug() and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        if _ssl is not None and isinstance(sock, _ssl.SSLSocket):
            raise TypeError("Socket cannot be of type SSLSocket")
        if sock.type != socket.SOCK_STREAM:
            raise ValueError("only SOCK_STREAM type sockets are supported")
        _check_file_params(file, offset, count)
        try:
            return await self._sock_sendfile_native(sock, file, offset, count)
        except asyncio.SendfileNotAvailableError:
            if not fallback:
                raise
        return await self._sock_sendfile_fallback(sock, file, offset, count)

    async def _sock_sendfile_native(self, sock, file, offset, count):
        fileno = _regular_file_descriptor(file)
        fd = sock.fileno()
        self._ensure_fd_no_transport(fd)
        return await self._sendfile_to_fd(fd, fileno, offset, count)

    async def _sendfile_to_fd(self, fd, fileno, offset, count, on_start=None):
        future = self.create_future()
        transfer = _NativeTransfer(self, future, fd, fileno, offset, count)
        if on_start is not None:
            on_start(transfer)
        transfer.step()
        try:
            return await future
        finally:
            future = transfer = None

    async def _sock_sendfile_fallback(self, sock, file, offset, count):
        if offset:
            file.seek(offset)
        block = constants.SENDFILE_FALLBACK_READBUFFER_SIZE
        if count:
            block = min(count, block)
        buffer = bytearray(block)
        total = 0
        try:
            while True:
                if count:
                    block = min(count - total, block)
                    if block <= 0:
                        break
                view = memoryview(buffer)[:block]
                read = await self.run_in_executor(None, file.readinto, view)
                if not read:
                    break  # the end of the file
                await self.sock_sendall(sock, view[:read])
                total += read
            return total
        finally:
            if total > 0 and hasattr(file, "seek"):
                file.seek(offset + total)

    # -- transports ------------------------------------------------------------

    async def sendfile(self, transport, file, offset=0, count=None, *, fallback=True):
        """Sends the file (from offset, count bytes or to its end) to the
        transport; returns the number of bytes sent (see the module)."""
        if transport.is_closing():
            raise RuntimeError("Transport is closing")
        mode = getattr(transport, "_sendfile_compatible", constants._SendfileMode.UNSUPPORTED)
        if mode is constants._SendfileMode.UNSUPPORTED:
            raise RuntimeError(f"sendfile is not supported for transport {transport!r}")
        _check_file_params(file, offset, count)
        if mode is constants._SendfileMode.TRY_NATIVE:
            try:
                return await self._sendfile_native(transport, file, offset, count)
            except asyncio.SendfileNotAvailableError:
                if not fallback:
                    raise
        if not fallback:
            raise asyncio.SendfileNotAvailableError(
                f"fallback is disabled and native sendfile is not supported for transport "
                f"{transport!r}")
        return await self._sendfile_fallback(transport, file, offset, count)

    async def _sendfile_native(self, transport, file, offset, count):
        if not isinstance(transport, _transports.SocketTransport) or transport._loop is not self:
            raise asyncio.SendfileNotAvailableError(
                f"sendfile(2) is not available for transport {transport!r}")
        fileno = _regular_file_descriptor(file)
        resume_reading = transport.is_reading()
        transfers = []
        drained = transport._sendfile_begin(
            lambda exc: transfers and transfers[0].stop(exc))
        try:
            transport.pause_reading()
            await drained
            return await self._sendfile_to_fd(transport._sock_fd, fileno, offset, count,
                                              transfers.append)
        finally:
            transport._sendfile_end()
            if resume_reading and not transport.is_closing():
                transport.resume_reading()

    async def _sendfile_fallback(self, transport, file, offset, count):
        if offset:
            file.seek(offset)
        block = constants.SENDFILE_FALLBACK_READBUFFER_SIZE
        if count:
            block = min(count, block)
        buffer = bytearray(block)
        total = 0
        # weft's transport copies what write() keeps, so the buffer can be
        # reused; another transport (asyncio's TLS one) gets its own bytes.
        copies = isinstance(transport, _transports.SocketTransport)
        writing = _FallbackWriting(self, transport)
        try:
            while True:
                if count:
                    block = min(count - total, block)
                    if block <= 0:
                        return total
                view = memoryview(buffer)[:block]
                read = await self.run_in_executor(None, file.readinto, view)
                if not read:
                    return total  # the end of the file
                await writing.drain()
                if copies:
                    transport.write(view[:read])
                else:
                    transport.write(bytes(view[:read]))
                total += read
        finally:
            if total > 0 and hasattr(file, "seek"):
                file.seek(offset + total)
            writing.restore()


__all__ = ["SendfileMethods"]
