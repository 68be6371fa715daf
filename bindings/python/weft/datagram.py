"""weft.datagram: weft.Loop's create_datagram_endpoint and its
asyncio.DatagramTransport.

The endpoint is a real socket made and configured as asyncio makes it
(family, reuse_port, allow_broadcast, bind to local_addr, connect to
remote_addr, or the caller's sock=), so get_extra_info('socket') is an
asyncio.trsock.TransportSocket and every socket option works; its readiness
comes from weft's fd watch (weft/fd.h, through loop.add_reader/add_writer),
not from Python's selectors. weft/udp.h's sockets cannot stand in here:
they cannot adopt a socket, connect, broadcast, reuse a port or hand out
their descriptor, all of which asyncio's surface has.

DatagramTransport: each readable event receives up to 32 datagrams (256 KiB
each) and hands each to protocol.datagram_received(data, addr); an OSError
from the socket goes to protocol.error_received. sendto() sends at once and
queues (with asyncio's write flow control: pause_writing/resume_writing)
only what the kernel refused with EAGAIN, flushed when the socket is
writable. close() ends once the queue is flushed; abort() drops it.
connection_lost is called once, from a loop callback, then the socket is
closed.

Thread: the loop's thread.
"""
import asyncio
import collections
import socket
import warnings

from asyncio import transports, trsock

__all__ = ["DatagramTransport", "create_datagram_endpoint"]

_MAX_SIZE = 256 * 1024
_MAX_PER_EVENT = 32
_LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5


class DatagramTransport(transports._FlowControlMixin, transports.DatagramTransport):
    """asyncio.DatagramTransport on weft.Loop (see the module docstring)."""

    def __init__(self, loop, sock, protocol, address=None, waiter=None, extra=None):
        super().__init__(extra, loop)
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
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._address = address
        self._buffer = collections.deque()
        self._buffer_size = 0
        self._closing = False
        self._conn_lost = 0
        self._writing = False
        loop.call_soon(protocol.connection_made, self)
        loop.call_soon(self._start_reading)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def __repr__(self):
        state = "closed" if self._sock is None else ("closing" if self._closing else "open")
        return f"<{type(self).__name__} {state} fd={self._fd}>"

    def _start_reading(self):
        if not self._closing and self._sock is not None:
            self._loop.add_reader(self._fd, self._read_ready)

    def get_write_buffer_size(self):
        return self._buffer_size

    def is_closing(self):
        return self._closing

    def set_protocol(self, protocol):
        self._protocol = protocol

    def get_protocol(self):
        return self._protocol

    def _read_ready(self):
        for _ in range(_MAX_PER_EVENT):
            if self._conn_lost or self._sock is None:
                return
            try:
                data, addr = self._sock.recvfrom(_MAX_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal read error on datagram transport")
                return
            self._protocol.datagram_received(data, addr)

    def sendto(self, data, addr=None):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, "
                            f"not {type(data).__name__!r}")
        if not data:
            return
        if self._address:
            if addr not in (None, self._address):
                raise ValueError(f"Invalid address: must be None or {self._address}")
            addr = self._address
        if self._conn_lost and self._address:
            if self._conn_lost >= _LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                asyncio.log.logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return
        if not self._buffer:
            try:
                if self._extra["peername"]:
                    self._sock.send(data)
                else:
                    self._sock.sendto(data, addr)
                return
            except (BlockingIOError, InterruptedError):
                self._loop.add_writer(self._fd, self._write_ready)
                self._writing = True
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal write error on datagram transport")
                return
        self._buffer.append((bytes(data), addr))
        self._buffer_size += len(data)
        self._maybe_pause_protocol()

    def _write_ready(self):
        while self._buffer:
            data, addr = self._buffer.popleft()
            self._buffer_size -= len(data)
            try:
                if self._extra["peername"]:
                    self._sock.send(data)
                else:
                    self._sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                self._buffer.appendleft((data, addr))
                self._buffer_size += len(data)
                break
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal write error on datagram transport")
                return
        self._maybe_resume_protocol()
        if not self._buffer:
            self._stop_writing()
            if self._closing:
                self._call_connection_lost_soon(None)

    def _stop_writing(self):
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    def close(self):
        if self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._fd)
        if not self._buffer:
            self._call_connection_lost_soon(None)

    def abort(self):
        self._force_close(None)

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
        if self._conn_lost:
            return
        if self._buffer:
            self._buffer.clear()
            self._buffer_size = 0
        if not self._closing:
            self._closing = True
            self._loop.remove_reader(self._fd)
        self._call_connection_lost_soon(exc)

    def _call_connection_lost_soon(self, exc):
        if self._conn_lost:
            return
        self._conn_lost += 1
        self._stop_writing()
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            sock, self._sock = self._sock, None
            if sock is not None:
                sock.close()
            self._protocol = None
            self._loop = None

    def __del__(self, _warn=warnings.warn):
        if self._sock is not None:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)
            self._sock.close()


def _set_result_unless_cancelled(future, result):
    if not future.cancelled():
        future.set_result(result)


async def _resolve(loop, address, family, proto, flags):
    host, port = address
    if host is not None and not isinstance(host, (str, bytes)):
        raise TypeError(f"host must be a str, not {type(host).__name__}")
    try:
        return socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM, proto,
                                  flags | socket.AI_NUMERICHOST | socket.AI_NUMERICSERV)
    except (socket.gaierror, UnicodeError, TypeError, ValueError, OverflowError):
        pass  # not numeric: resolve off the loop thread
    return await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_DGRAM,
                                  proto=proto, flags=flags)


async def _address_pairs(loop, local_addr, remote_addr, family, proto, flags):
    """[((family, proto), (local sockaddr, remote sockaddr)), ...] as asyncio
    pairs them: one per family both addresses resolved to."""
    if not (local_addr or remote_addr):
        if family == 0:
            raise ValueError("unexpected address family")
        return [((family, proto), (None, None))]
    if family == getattr(socket, "AF_UNIX", None):
        for addr in (local_addr, remote_addr):
            if addr is not None and not isinstance(addr, (str, bytes)):
                raise TypeError("string is expected")
        return [((family, proto), (local_addr, remote_addr))]
    pairs = {}
    for index, addr in ((0, local_addr), (1, remote_addr)):
        if addr is None:
            continue
        if not (isinstance(addr, tuple) and len(addr) == 2):
            raise TypeError("2-tuple is expected")
        infos = await _resolve(loop, addr, family, proto, flags)
        if not infos:
            raise OSError("getaddrinfo() returned empty list")
        for fam, _, pro, _, address in infos:
            pair = pairs.setdefault((fam, pro), [None, None])
            if pair[index] is None:
                pair[index] = address
    result = [(key, tuple(pair)) for key, pair in pairs.items()
              if not ((local_addr and pair[0] is None) or (remote_addr and pair[1] is None))]
    if not result:
        raise ValueError("can not get address information")
    return result


def _open_socket(family, proto, local, remote, local_addr, remote_addr, reuse_port,
                 allow_broadcast):
    sock = socket.socket(family=family, type=socket.SOCK_DGRAM, proto=proto)
    try:
        if reuse_port:
            if not hasattr(socket, "SO_REUSEPORT"):
                raise ValueError("reuse_port not supported by socket module")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if allow_broadcast:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setblocking(False)
        if local_addr:
            sock.bind(local)
        if remote_addr and not allow_broadcast:
            sock.connect(remote)  # a datagram socket connects at once
    except BaseException:
        sock.close()
        raise
    return sock


async def create_datagram_endpoint(loop, protocol_factory, local_addr=None, remote_addr=None, *,
                                   family=0, proto=0, flags=0, reuse_port=None, allow_broadcast=None, sock=None):
    """loop.create_datagram_endpoint: (transport, protocol)."""
    remote = None
    if sock is not None:
        if sock.type != socket.SOCK_DGRAM:
            raise ValueError(f"A UDP Socket was expected, got {sock!r}")
        given = dict(local_addr=local_addr, remote_addr=remote_addr, family=family, proto=proto,
                     flags=flags, reuse_port=reuse_port, allow_broadcast=allow_broadcast)
        problems = ", ".join(f"{k}={v}" for k, v in given.items() if v)
        if problems:
            raise ValueError(f"socket modifier keyword arguments can not be used "
                             f"when sock is specified. ({problems})")
        sock.setblocking(False)
    else:
        pairs = await _address_pairs(loop, local_addr, remote_addr, family, proto, flags)
        failures = []
        for (fam, pro), (local, remote_address) in pairs:
            try:
                sock = _open_socket(fam, pro, local, remote_address, local_addr, remote_addr,
                                    reuse_port, allow_broadcast)
            except OSError as exc:
                failures.append(exc)
                continue
            if remote_addr:
                remote = remote_address
            break
        else:
            raise failures[0]
    protocol = protocol_factory()
    waiter = loop.create_future()
    transport = DatagramTransport(loop, sock, protocol, remote, waiter)
    if loop.get_debug():
        if local_addr:
            asyncio.log.logger.info("Datagram endpoint local_addr=%r remote_addr=%r created: "
                                    "(%r, %r)", local_addr, remote_addr, transport, protocol)
        else:
            asyncio.log.logger.debug("Datagram endpoint remote_addr=%r created: (%r, %r)",
                                     remote_addr, transport, protocol)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    return transport, protocol
