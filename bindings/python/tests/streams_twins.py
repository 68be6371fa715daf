"""Twin test classes for weft.streams: each streams test is written once in a
mixin and runs with asyncio's streams and with weft's (self.streams: the
module with StreamReader, StreamWriter, StreamReaderProtocol,
open_connection, start_server, ...), each on weft's loop and on asyncio's,
so any difference between the four shows:

    class ReaderCases(StreamsCase):
        def test_read(self): ...
    class TestWeftStreamsOnWeftLoop(ReaderCases, WeftStreams, WeftLoop): pass
    ... and the other three.
"""
import asyncio

import weft

from loop_twins import LoopCase

TIMEOUT = 20


class StreamsCase(LoopCase):
    def run(self, coro, timeout=TIMEOUT):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))


class AsyncioStreams:
    streams = asyncio
    is_weft_streams = False


class WeftStreams:
    streams = weft.streams
    is_weft_streams = True
