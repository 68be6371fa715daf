"""weft.servers: NetworkMethods, weft.Loop's connection and server
functions: create_connection, create_server, create_unix_connection,
create_unix_server, connect_accepted_socket, start_tls.

These are asyncio's own implementations (BaseEventLoop's and the Unix
loop's functions, taken as functions of this class), so their argument
checks, error types and messages, name resolution (the loop's getaddrinfo,
with numeric addresses resolved without a lookup), happy eyeballs
(happy_eyeballs_delay, interleave: asyncio.staggered over sock_connect),
local_addr binding, reuse_address/reuse_port, several hosts, backlog,
start_serving and the returned asyncio.Server (close, wait_closed,
serve_forever, start_serving, is_serving, sockets, get_loop, async with) are
asyncio's exactly. What they do I/O with is weft's: sock_connect and the
server's accepting are weft fd watches (weft/sockets.py), every connection
is a weft stream (weft/transports.py), TLS is asyncio's SSLProtocol on top
of that stream.

Thread: the loop's thread.
"""
from asyncio import base_events, unix_events

_base = base_events.BaseEventLoop
_unix = unix_events._UnixSelectorEventLoop


class NetworkMethods:
    """Mixin of weft.Loop: connections and servers (see the module)."""

    # asyncio's functions read the debug flag as an attribute.
    @property
    def _debug(self):
        return self.get_debug()

    create_connection = _base.create_connection
    create_server = _base.create_server
    connect_accepted_socket = _base.connect_accepted_socket
    start_tls = _base.start_tls
    create_unix_connection = _unix.create_unix_connection
    create_unix_server = _unix.create_unix_server

    # What those call.
    _ensure_resolved = _base._ensure_resolved
    _connect_sock = _base._connect_sock
    _create_connection_transport = _base._create_connection_transport
    _create_server_getaddrinfo = _base._create_server_getaddrinfo


__all__ = ["NetworkMethods"]
