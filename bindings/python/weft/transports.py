"""weft.transports: SocketTransport, weft.Loop's transport for a connected
stream socket (TCP or Unix), an asyncio.Transport on a weft stream.

The socket stays a Python socket (get_extra_info('socket') is an
asyncio.trsock.TransportSocket on it); a dup of its descriptor becomes a
weft stream (weft_pipe_open) owned by the C half, weft._capi.StreamCore
(native/stream_transport.c), which reads into the protocol as bytes arrive
and writes. transport.write, is_closing and get_write_buffer_size are
StreamCore's methods themselves (instance attributes), so the calls asyncio's
streams make per message (StreamWriter.write, drain) cost no Python frame.
This module has the rest:
asyncio's transport surface, closing, and the rare paths StreamCore calls
back (_eof_received, _fatal_error, _flow_control_error, _write_after_lost,
_closed_when_drained, _write_drained), and the transport's half of
sendfile (weft.sendfile): _sendfile_begin/_sendfile_end hand the writing
path over while os.sendfile writes to the socket.

Behaviour follows asyncio's socket transports: connection_made and reading
start on the next iteration; close() stops reading, lets queued writes go
out, then calls connection_lost(None) once; abort() and fatal errors drop
the queue and call connection_lost(exc); the socket is closed after
connection_lost. Differences: get_write_buffer_size() counts the bytes weft
holds that the kernel has not taken, and the bytes written during the loop's
current batch of callbacks, which StreamCore gathers and sends at the batch's
end; a read already asked for when reading pauses is kept and delivered after
resume_reading.

Thread: the loop's thread. A transport holds its loop, socket, protocol and
StreamCore until connection_lost has run.
"""
import asyncio
import os
import socket
import warnings

from asyncio import constants, futures, trsock
from asyncio.log import logger

from . import _capi

_HIGH_WATER = 64 * 1024


def _set_nodelay(sock):
    # asyncio turns Nagle's algorithm off on TCP transports.
    if (sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
            and sock.proto == socket.IPPROTO_TCP):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class SocketTransport(asyncio.Transport):
    """A connected stream socket's transport on weft (see the module)."""

    _start_tls_compatible = True
    _sendfile_compatible = constants._SendfileMode.TRY_NATIVE

    def __init__(self, loop, sock, protocol, waiter=None, extra=None, server=None):
        super().__init__(extra)
        self._extra["socket"] = trsock.TransportSocket(sock)
        try:
            self._extra["sockname"] = sock.getsockname()
        except OSError:
            self._extra["sockname"] = None
        if "peername" not in self._extra:
            try:
                self._extra["peername"] = sock.getpeername()
            except OSError:
                self._extra["peername"] = None
        self._loop = loop
        self._sock = sock
        self._sock_fd = sock.fileno()
        self._protocol = None
        self._server = None
        self._closing = False
        self._conn_lost = 0
        self._high_water = _HIGH_WATER
        self._low_water = _HIGH_WATER // 4
        self._sendfile_waiter = None
        self._sendfile_stop = None
        _set_nodelay(sock)
        fd = os.dup(self._sock_fd)
        try:
            self._core = _capi.StreamCore(loop, fd, self)
        except BaseException:
            os.close(fd)
            raise
        self.write = self._core.write
        self.is_closing = self._core.is_closing
        self.get_write_buffer_size = self._core.write_buffer_size
        self.set_protocol(protocol)
        if server is not None:
            server._attach()
            self._server = server
        loop._register_transport(self._sock_fd, self)
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self._core.start)
        if waiter is not None:
            loop.call_soon(futures._set_result_unless_cancelled, waiter, None)

    def __repr__(self):
        info = [type(self).__name__]
        if self._sock is None:
            info.append("closed")
        elif self._closing:
            info.append("closing")
        info.append(f"fd={self._sock_fd}")
        if self._sock is not None and not self._closing:
            info.append("read=" + ("polling" if self._core.reading else "idle"))
            info.append(f"write=<bufsize={self.get_write_buffer_size()}>")
        return "<{}>".format(" ".join(info))

    def __del__(self, _warn=warnings.warn):
        if self._sock is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self._sock.close()
            self._sock = None
            core = self.__dict__.get("_core")
            if core is not None:
                core.abort()
                core.detach()

    # -- asyncio.BaseTransport -------------------------------------------------

    def set_protocol(self, protocol):
        self._core.set_protocol(protocol, isinstance(protocol, asyncio.BufferedProtocol))
        self._protocol = protocol

    def get_protocol(self):
        return self._protocol

    def is_closing(self):
        # Shadowed per instance by StreamCore.is_closing (the same answer).
        return self._closing

    def close(self):
        if self._closing:
            return
        self._closing = True
        self._stop_sendfile(None)
        if self._core.close():
            self._conn_lost += 1
            self._loop.call_soon(self._call_connection_lost, None)

    # -- reading -----------------------------------------------------------------

    def is_reading(self):
        return not self._closing and self._core.reading

    def pause_reading(self):
        if self._closing:
            return
        self._core.pause_reading()
        if self._loop.get_debug():
            logger.debug("%r pauses reading", self)

    def resume_reading(self):
        if self._closing:
            return
        self._core.resume_reading()
        if self._loop.get_debug():
            logger.debug("%r resumes reading", self)

    # -- writing (write itself is StreamCore.write) ------------------------------

    def writelines(self, list_of_data):
        self.write(b"".join(list_of_data))

    def write_eof(self):
        if self._closing or self._core.eof_written:
            return
        self._core.write_eof()

    def can_write_eof(self):
        return True

    def abort(self):
        self._force_close(None)

    def get_write_buffer_size(self):
        # Shadowed per instance by StreamCore.write_buffer_size.
        return self._core.write_buffer_size()

    @property
    def _protocol_paused(self):
        # asyncio's name: whether the protocol was told to pause writing.
        return self._core.protocol_paused

    def get_write_buffer_limits(self):
        return (self._low_water, self._high_water)

    def set_write_buffer_limits(self, high=None, low=None):
        if high is None:
            high = _HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high_water, self._low_water = high, low
        self._core.set_limits(high, low)

    # -- sendfile (weft.sendfile) ---------------------------------------------------

    def _sendfile_begin(self, stop):
        """Hands the writing path to a native sendfile: write() raises until
        _sendfile_end(). Returns a future done once weft holds no more bytes
        for the socket (failed if the transport ends first). `stop(exc)` is
        called if the transport closes or fails meanwhile; it must stop
        using the socket at once."""
        if self._sendfile_waiter is not None:
            raise RuntimeError("sendfile is already in progress on this transport")
        waiter = self._loop.create_future()
        self._sendfile_waiter = waiter
        self._sendfile_stop = stop
        self.write = self._write_during_sendfile
        if self._core.notify_drained():
            waiter.set_result(None)
        return waiter

    def _sendfile_end(self):
        self._sendfile_waiter = None
        self._sendfile_stop = None
        self.write = self._core.write

    def _write_during_sendfile(self, data):
        raise RuntimeError("unable to write; sendfile is in progress")

    def _write_drained(self):
        waiter = self._sendfile_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _stop_sendfile(self, exc):
        waiter = self._sendfile_waiter
        if waiter is None:
            return
        if exc is None:
            exc = ConnectionError("the transport was closed during sendfile")
        if not waiter.done():
            waiter.set_exception(exc)
        stop, self._sendfile_stop = self._sendfile_stop, None
        if stop is not None:
            stop(exc)

    # -- what StreamCore calls back ------------------------------------------------

    def _eof_received(self):
        if self._loop.get_debug():
            logger.debug("%r received EOF", self)
        try:
            keep_open = self._protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if not keep_open:
            self.close()

    def _fatal_error(self, exc, message="Fatal error on transport"):
        if isinstance(exc, OSError):
            if self._loop.get_debug():
                logger.debug("%r: %s", self, message, exc_info=True)
        else:
            self._loop.call_exception_handler({
                "message": message,
                "exception": exc,
                "transport": self,
                "protocol": self._protocol,
            })
        self._force_close(exc)

    def _flow_control_error(self, exc, message):
        self._loop.call_exception_handler({
            "message": message,
            "exception": exc,
            "transport": self,
            "protocol": self._protocol,
        })

    def _write_after_lost(self):
        if self._core.writes_after_lost >= constants.LOG_THRESHOLD_FOR_CONNLOST_WRITES:
            logger.warning("socket.send() raised exception.")

    def _closed_when_drained(self):
        if self._conn_lost:
            return
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, None)

    # -- the end ------------------------------------------------------------------

    def _force_close(self, exc):
        if self._conn_lost:
            return
        self._closing = True
        self._conn_lost += 1
        self._stop_sendfile(exc)
        self._core.abort()
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._stop_sendfile(exc)
            self._core.abort()
            self._core.detach()
            loop = self._loop
            if loop is not None:
                loop._unregister_transport(self._sock_fd, self)
            self._sock.close()
            self._sock = None
            self._protocol = None
            self._loop = None
            server = self._server
            if server is not None:
                server._detach()
                self._server = None


__all__ = ["SocketTransport"]
