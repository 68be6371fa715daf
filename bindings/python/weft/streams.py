"""weft.streams: asyncio's streams API with the per-message work in C.

``weft.open_connection``, ``weft.start_server``, ``weft.open_unix_connection``
and ``weft.start_unix_server`` take asyncio's arguments (``limit``, and the
rest for the loop's create_connection/create_server: ``ssl``,
``server_hostname``, ``sock``, ``backlog``, ...) and give a
``weft.StreamReader`` and a ``weft.StreamWriter``, which have asyncio's API
and are subclasses of ``asyncio.StreamReader`` and ``asyncio.StreamWriter``.

What is C (native/streams_*.c): the reader's buffer and the future a read
waits on; ``data_received`` (no Python frame between the transport and the
reader); every read (``read``, ``readexactly``,
``readuntil``, ``readline``, ``async for``) returns an awaitable that answers
from the buffer without a frame or a suspension when it can, and otherwise
waits on a loop future that ``feed_data`` completes, which wakes the task
through asyncio's C Task; ``StreamWriter.write``; and ``drain``, which costs
no frame while writing is not paused. The rare paths (pause and resume of
writing, connection_lost, EOF, start_tls, wait_closed, repr) are asyncio's own
methods, running over the C state through properties with asyncio's
attribute names.

Any loop: on asyncio's default loop, uvloop or another, the streams work as
asyncio's (the transport calls ``data_received``, which copies the bytes into
the reader's buffer; the futures are that loop's). Only on weft's loop does
the transport feed the reader from weft's C read callback, and a read then
returns the very bytes object that callback made.

Differences from asyncio's classes that can show: ``reader._buffer`` is a copy
(a ``bytearray``; assigning it replaces the buffer); the reads return
coroutine-like objects rather than coroutines (asyncio's ``create_task``,
``wait_for``, ``gather`` and ``ensure_future`` take them;
``inspect.iscoroutine`` does not); a read called while another waits raises
its ``RuntimeError`` when awaited, as asyncio's does.

Thread: the loop's thread, as asyncio's streams.
"""
import asyncio
import socket

from asyncio import coroutines, events, streams as _asyncio_streams

from . import _capi

_DEFAULT_LIMIT = 2 ** 16  # 64 KiB, asyncio's


class StreamReader(_capi.StreamsReader, asyncio.StreamReader):
    """asyncio.StreamReader with its buffer, waiter and reads in C.
    StreamReader(limit=2**16, loop=None); asyncio's __init__ and __repr__."""


class StreamWriter(_capi.StreamsWriter, asyncio.StreamWriter):
    """asyncio.StreamWriter whose write and drain are C.
    StreamWriter(transport, protocol, reader, loop)."""

    # drain() when something needs waiting for (or raising): asyncio's.
    _drain_slow = asyncio.StreamWriter.drain


class StreamReaderProtocol(_capi.StreamsProtocol, asyncio.StreamReaderProtocol):
    """asyncio.StreamReaderProtocol whose data_received and drain check are C.
    StreamReaderProtocol(stream_reader, client_connected_cb=None, loop=None)."""

    # _drain_helper() while writing is paused: asyncio's.
    _drain_helper_slow = _asyncio_streams.FlowControlMixin._drain_helper

    def connection_made(self, transport):
        # asyncio's, with a weft.StreamWriter for the callback.
        if self._reject_connection:
            context = {
                "message": ("An open stream was garbage collected prior to "
                            "establishing network connection; "
                            'call "stream.close()" explicitly.')
            }
            if self._source_traceback:
                context["source_traceback"] = self._source_traceback
            self._loop.call_exception_handler(context)
            transport.abort()
            return
        self._transport = transport
        reader = self._stream_reader
        if reader is not None:
            reader.set_transport(transport)
        self._over_ssl = transport.get_extra_info("sslcontext") is not None
        if self._client_connected_cb is not None:
            self._stream_writer = StreamWriter(transport, self, reader, self._loop)
            res = self._client_connected_cb(reader, self._stream_writer)
            if coroutines.iscoroutine(res):
                self._task = self._loop.create_task(res)
            self._strong_reader = None


async def open_connection(host=None, port=None, *, limit=_DEFAULT_LIMIT, **kwds):
    """asyncio.open_connection on weft's streams: (reader, writer)."""
    loop = events.get_running_loop()
    reader = StreamReader(limit=limit, loop=loop)
    protocol = StreamReaderProtocol(reader, loop=loop)
    transport, _ = await loop.create_connection(lambda: protocol, host, port, **kwds)
    writer = StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def start_server(client_connected_cb, host=None, port=None, *, limit=_DEFAULT_LIMIT,
                       **kwds):
    """asyncio.start_server on weft's streams: client_connected_cb(reader,
    writer) per connection (a coroutine function's coroutine becomes a
    task); returns the loop's asyncio.Server."""
    loop = events.get_running_loop()

    def factory():
        reader = StreamReader(limit=limit, loop=loop)
        return StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await loop.create_server(factory, host, port, **kwds)


if hasattr(socket, "AF_UNIX"):

    async def open_unix_connection(path=None, *, limit=_DEFAULT_LIMIT, **kwds):
        """asyncio.open_unix_connection on weft's streams."""
        loop = events.get_running_loop()
        reader = StreamReader(limit=limit, loop=loop)
        protocol = StreamReaderProtocol(reader, loop=loop)
        transport, _ = await loop.create_unix_connection(lambda: protocol, path, **kwds)
        writer = StreamWriter(transport, protocol, reader, loop)
        return reader, writer

    async def start_unix_server(client_connected_cb, path=None, *, limit=_DEFAULT_LIMIT,
                                **kwds):
        """asyncio.start_unix_server on weft's streams."""
        loop = events.get_running_loop()

        def factory():
            reader = StreamReader(limit=limit, loop=loop)
            return StreamReaderProtocol(reader, client_connected_cb, loop=loop)

        return await loop.create_unix_server(factory, path, **kwds)


__all__ = ["StreamReader", "StreamWriter", "StreamReaderProtocol", "open_connection",
           "start_server"]
if hasattr(socket, "AF_UNIX"):
    __all__ += ["open_unix_connection", "start_unix_server"]
