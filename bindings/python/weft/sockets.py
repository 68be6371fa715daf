"""weft.sockets: SocketMethods, weft.Loop's socket functions (sock_recv,
sock_recv_into, sock_recvfrom, sock_recvfrom_into, sock_sendall,
sock_sendto, sock_connect, sock_accept) and the accepting half of its
servers (_start_serving/_stop_serving, used by asyncio.Server).

Each sock_* function tries the operation at once; if the socket would
block, it waits for readiness with a one-shot weft fd watch (the loop's
add_reader/add_writer, weft_fd_wait) and tries again, so the sockets stay
the caller's Python sockets (non-blocking, as asyncio requires). Cancelling
the awaiting task removes the wait: nothing more is read or written for it.
A descriptor a transport uses cannot be waited on (RuntimeError, as
asyncio).

A server's listening socket is watched for readability; each readiness
accepts up to `backlog` connections, each made a weft.transports
SocketTransport with a new protocol (a TLS one completes its handshake in a
task, asyncio's way).

Thread: the loop's thread. Pending waits hold their future, socket and
arguments until they complete or are cancelled.
"""
import errno
import functools
import socket
import weakref

from asyncio import constants, sslproto, trsock

try:
    import ssl as _ssl
except ImportError:  # pragma: no cover
    _ssl = None

from . import transports as _transports


def _check_socket(loop, sock):
    if _ssl is not None and isinstance(sock, _ssl.SSLSocket):
        raise TypeError("Socket cannot be of type SSLSocket")
    if loop.get_debug() and sock.gettimeout() != 0:
        raise ValueError("the socket must be non-blocking")


class SocketMethods:
    """Mixin of weft.Loop: the sock_* functions and server accepting."""

    # -- transports by descriptor -------------------------------------------------

    def _transport_table(self):
        table = self.__dict__.get("_sock_transports")
        if table is None:
            table = self.__dict__["_sock_transports"] = weakref.WeakValueDictionary()
        return table

    def _register_transport(self, fd, transport):
        self._transport_table()[fd] = transport

    def _unregister_transport(self, fd, transport):
        table = self._transport_table()
        if table.get(fd) is transport:
            del table[fd]

    def _ensure_fd_no_transport(self, fd):
        transport = self._transport_table().get(fd)
        if transport is not None and not transport.is_closing():
            raise RuntimeError(f"File descriptor {fd!r} is used by transport {transport!r}")

    # -- waiting for readiness ------------------------------------------------------

    def _sock_wait(self, fut, sock, writable, callback, *args):
        fd = sock.fileno()
        self._ensure_fd_no_transport(fd)
        handle = self._handle(callback, *args)
        watcher = self._watcher(fd, True)
        if writable:
            watcher.set_writer(handle)
        else:
            watcher.set_reader(handle)
        fut.add_done_callback(functools.partial(self._sock_wait_done, fd, writable, handle))

    def _sock_wait_done(self, fd, writable, handle, fut):
        # A handle another wait replaced is cancelled already.
        if not handle.cancelled():
            if writable:
                self.remove_writer(fd)
            else:
                self.remove_reader(fd)

    def _sock_retry(self, fut, sock, operation, *args):
        # The method is looked up at each try, as asyncio does.
        if fut.done():
            return
        try:
            result = getattr(sock, operation)(*args)
        except (BlockingIOError, InterruptedError):
            return  # not ready after all: the level-triggered wait calls again
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    async def _sock_read_op(self, sock, operation, *args):
        _check_socket(self, sock)
        try:
            return getattr(sock, operation)(*args)
        except (BlockingIOError, InterruptedError):
            pass
        fut = self.create_future()
        self._sock_wait(fut, sock, False, self._sock_retry, fut, sock, operation, *args)
        try:
            return await fut
        finally:
            fut = None

    # -- the sock_* functions -----------------------------------------------------

    async def sock_recv(self, sock, n):
        return await self._sock_read_op(sock, "recv", n)

    async def sock_recv_into(self, sock, buf):
        return await self._sock_read_op(sock, "recv_into", buf)

    async def sock_recvfrom(self, sock, bufsize):
        return await self._sock_read_op(sock, "recvfrom", bufsize)

    async def sock_recvfrom_into(self, sock, buf, nbytes=0):
        if not nbytes:
            nbytes = len(buf)
        return await self._sock_read_op(sock, "recvfrom_into", buf, nbytes)

    async def sock_sendall(self, sock, data):
        _check_socket(self, sock)
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent == len(data):
            return
        fut = self.create_future()
        self._sock_wait(fut, sock, True, self._sock_send_more, fut, sock, memoryview(data), [sent])
        try:
            return await fut
        finally:
            fut = None

    def _sock_send_more(self, fut, sock, view, position):
        if fut.done():
            return
        start = position[0]
        try:
            sent = sock.send(view[start:])
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
            return
        start += sent
        if start == len(view):
            fut.set_result(None)
        else:
            position[0] = start

    async def sock_sendto(self, sock, data, address):
        _check_socket(self, sock)
        try:
            return sock.sendto(data, address)
        except (BlockingIOError, InterruptedError):
            pass
        fut = self.create_future()
        self._sock_wait(fut, sock, True, self._sock_retry, fut, sock, "sendto", data,
                        address)
        try:
            return await fut
        finally:
            fut = None

    async def sock_connect(self, sock, address):
        _check_socket(self, sock)
        if sock.family == socket.AF_INET or (socket.has_ipv6 and sock.family == socket.AF_INET6):
            resolved = await self._ensure_resolved(address, family=sock.family, type=sock.type,
                                                   proto=sock.proto, loop=self)
            address = resolved[0][4]
        fut = self.create_future()
        try:
            sock.connect(address)
        except (BlockingIOError, InterruptedError):
            # In progress: writable once it succeeded or failed.
            self._sock_wait(fut, sock, True, self._sock_connect_done, fut, sock, address)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(None)
        try:
            return await fut
        finally:
            fut = None

    def _sock_connect_done(self, fut, sock, address):
        if fut.done():
            return
        try:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                raise OSError(err, f"Connect call failed {address}")
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(None)

    async def sock_accept(self, sock):
        _check_socket(self, sock)
        fut = self.create_future()
        self._sock_try_accept(fut, sock, False)
        try:
            return await fut
        finally:
            fut = None

    def _sock_try_accept(self, fut, sock, waiting):
        if fut.done():
            return
        try:
            conn, address = sock.accept()
            conn.setblocking(False)
        except (BlockingIOError, InterruptedError):
            if not waiting:
                self._sock_wait(fut, sock, False, self._sock_try_accept, fut, sock, True)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result((conn, address))

    # -- transports ---------------------------------------------------------------

    def _make_socket_transport(self, sock, protocol, waiter=None, *, extra=None, server=None):
        return _transports.SocketTransport(self, sock, protocol, waiter, extra, server)

    def _make_ssl_transport(self, rawsock, protocol, sslcontext, waiter=None, *,
                            server_side=False, server_hostname=None, extra=None, server=None,
                            ssl_handshake_timeout=constants.SSL_HANDSHAKE_TIMEOUT,
                            ssl_shutdown_timeout=constants.SSL_SHUTDOWN_TIMEOUT):
        # asyncio's own TLS protocol over a weft transport.
        ssl_protocol = sslproto.SSLProtocol(
            self, protocol, sslcontext, waiter, server_side, server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout)
        _transports.SocketTransport(self, rawsock, ssl_protocol, extra=extra, server=server)
        return ssl_protocol._app_transport

    # -- servers: accepting ---------------------------------------------------------

    def _start_serving(self, protocol_factory, sock, sslcontext=None, server=None, backlog=100,
                       ssl_handshake_timeout=constants.SSL_HANDSHAKE_TIMEOUT,
                       ssl_shutdown_timeout=constants.SSL_SHUTDOWN_TIMEOUT):
        self.add_reader(sock.fileno(), self._accept_ready, protocol_factory, sock, sslcontext,
                        server, backlog, ssl_handshake_timeout, ssl_shutdown_timeout)

    def _stop_serving(self, sock):
        self.remove_reader(sock.fileno())
        sock.close()

    def _accept_ready(self, protocol_factory, sock, sslcontext, server, backlog,
                      ssl_handshake_timeout, ssl_shutdown_timeout):
        for _ in range(backlog):
            try:
                conn, address = sock.accept()
                conn.setblocking(False)
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return  # nothing more waiting
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # Out of descriptors or memory: stop accepting for a while.
                    self.call_exception_handler({
                        "message": "socket.accept() out of system resource",
                        "exception": exc,
                        "socket": trsock.TransportSocket(sock),
                    })
                    self.remove_reader(sock.fileno())
                    self.call_later(constants.ACCEPT_RETRY_DELAY, self._start_serving,
                                    protocol_factory, sock, sslcontext, server, backlog,
                                    ssl_handshake_timeout, ssl_shutdown_timeout)
                    return
                raise
            extra = {"peername": address}
            if sslcontext:
                self.create_task(self._accept_tls(protocol_factory, conn, extra, sslcontext,
                                                  server, ssl_handshake_timeout,
                                                  ssl_shutdown_timeout))
            else:
                self._accept_plain(protocol_factory, conn, extra, server)

    def _accept_plain(self, protocol_factory, conn, extra, server):
        try:
            protocol = protocol_factory()
            self._make_socket_transport(conn, protocol, extra=extra, server=server)
        except (SystemExit, KeyboardInterrupt):
            conn.close()
            raise
        except BaseException as exc:
            conn.close()
            self.call_exception_handler({
                "message": "Error on transport creation for incoming connection",
                "exception": exc,
            })

    async def _accept_tls(self, protocol_factory, conn, extra, sslcontext, server,
                          ssl_handshake_timeout, ssl_shutdown_timeout):
        protocol = None
        transport = None
        try:
            protocol = protocol_factory()
            waiter = self.create_future()
            transport = self._make_ssl_transport(
                conn, protocol, sslcontext, waiter=waiter, server_side=True, extra=extra,
                server=server, ssl_handshake_timeout=ssl_handshake_timeout,
                ssl_shutdown_timeout=ssl_shutdown_timeout)
            try:
                await waiter
            except BaseException:
                transport.close()
                raise
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if transport is None:
                conn.close()
            if self.get_debug():
                context = {
                    "message": "Error on transport creation for incoming connection",
                    "exception": exc,
                }
                if protocol is not None:
                    context["protocol"] = protocol
                if transport is not None:
                    context["transport"] = transport
                self.call_exception_handler(context)


__all__ = ["SocketMethods"]
