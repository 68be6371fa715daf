"""StreamReader fed by hand (feed_data, feed_eof, set_exception), with
asyncio's streams and weft.streams, on weft's loop and asyncio's
(streams_twins.py): every read's results, errors and what it leaves in the
buffer; limits (LimitOverrunError, readline's ValueError); EOF
(IncompleteReadError); exceptions; cancelling a pending read; two reads
waiting at once; the transport's read flow control; reads as tasks and
under wait_for; async iteration; the future each wait is on (pending, of
the reader's loop; a read awaited by another loop's task fails). Every wait
is bounded."""
import asyncio

import pytest

from loop_twins import AsyncioLoop, WeftLoop
from streams_twins import TIMEOUT, AsyncioStreams, StreamsCase, WeftStreams


class FakeTransport:
    """Records pause_reading/resume_reading (or cannot pause)."""

    def __init__(self, can_pause=True):
        self.calls = []
        self.can_pause = can_pause

    def pause_reading(self):
        if not self.can_pause:
            raise NotImplementedError
        self.calls.append("pause")

    def resume_reading(self):
        self.calls.append("resume")


class ReaderCases(StreamsCase):
    def reader(self, limit=2 ** 16, data=b"", eof=False):
        reader = self.streams.StreamReader(limit=limit, loop=self.loop)
        if data:
            reader.feed_data(data)
        if eof:
            reader.feed_eof()
        return reader

    def later(self, delay, function, *args):
        self.loop.call_later(delay, function, *args)

    def read_while_fed(self, read, reader, chunks, eof=False):
        """Awaits `read` while the chunks are fed one by one, 5 ms apart
        (then the end of the stream if `eof`); its result."""
        async def feed():
            for chunk in chunks:
                await asyncio.sleep(0.005)
                reader.feed_data(chunk)
            if eof:
                reader.feed_eof()

        async def main():
            feeder = asyncio.ensure_future(feed())
            data = await read
            await feeder
            return data

        return self.run(main())

    # -- construction -----------------------------------------------------

    def test_is_an_asyncio_stream_reader(self):
        reader = self.reader()
        assert isinstance(reader, asyncio.StreamReader)
        assert reader.exception() is None
        assert not reader.at_eof()
        with pytest.raises(ValueError, match="Limit cannot be <= 0"):
            self.streams.StreamReader(limit=0, loop=self.loop)
        assert "limit=5" in repr(self.reader(limit=5))
        assert "3 bytes" in repr(self.reader(data=b"abc"))
        assert "eof" in repr(self.reader(eof=True))

    # -- read --------------------------------------------------------------

    def test_read_takes_what_is_buffered(self):
        reader = self.reader(data=b"hello world")
        assert self.run(reader.read(5)) == b"hello"
        assert self.run(reader.read(0)) == b""
        assert self.run(reader.read(100)) == b" world"
        reader.feed_data(bytearray(b"ab"))
        reader.feed_data(memoryview(b"cd"))
        assert self.run(reader.read(n=3)) == b"abc"
        assert self.run(reader.read(3)) == b"d"

    def test_read_waits_for_data(self):
        reader = self.reader()
        self.later(0.01, reader.feed_data, b"late")
        assert self.run(reader.read(10)) == b"late"
        self.later(0.01, reader.feed_eof)
        assert self.run(reader.read(10)) == b""
        assert reader.at_eof()
        assert self.run(reader.read(10)) == b""

    def test_read_all_until_eof(self):
        reader = self.reader(limit=4, data=b"0123456789")
        data = self.read_while_fed(reader.read(), reader, (b"abc", b"", b"defgh"), eof=True)
        assert data == b"0123456789abcdefgh"
        assert self.run(reader.read(-1)) == b""

    def test_read_all_raises_an_exception_set_meanwhile(self):
        reader = self.reader(data=b"partial")
        self.later(0.01, reader.set_exception, ValueError("broken"))
        with pytest.raises(ValueError, match="broken"):
            self.run(reader.read())

    def test_feed_data_after_eof_is_refused(self):
        reader = self.reader(eof=True)
        with pytest.raises(AssertionError):
            reader.feed_data(b"x")
        reader2 = self.reader()
        reader2.feed_data(b"")
        assert reader2._buffer == b""

    # -- readexactly ----------------------------------------------------------

    def test_readexactly_across_feeds(self):
        reader = self.reader(data=b"ab")
        assert self.read_while_fed(reader.readexactly(6), reader, (b"cd", b"efg")) == b"abcdef"
        assert self.run(reader.readexactly(1)) == b"g"
        assert self.run(reader.readexactly(0)) == b""

    def test_readexactly_at_eof_raises_incomplete(self):
        reader = self.reader(data=b"abc")
        self.later(0.01, reader.feed_eof)
        with pytest.raises(asyncio.IncompleteReadError) as info:
            self.run(reader.readexactly(5))
        assert info.value.partial == b"abc"
        assert info.value.expected == 5
        assert reader.at_eof()

    def test_readexactly_checks_its_size(self):
        reader = self.reader(data=b"abc")
        with pytest.raises(ValueError, match="less than zero"):
            self.run(reader.readexactly(-1))
        assert self.run(reader.read(3)) == b"abc"

    def test_a_bad_size_fails_the_await_not_the_call(self):
        reader = self.reader(data=b"abc")
        read, exactly = reader.read("3"), reader.readexactly(None)
        with pytest.raises(TypeError):
            self.run(read)
        with pytest.raises(TypeError):
            self.run(exactly)
        with pytest.raises(TypeError):
            reader.read(1, 2)  # the signature is checked at the call
        assert self.run(reader.read(3)) == b"abc"

    # -- readuntil and readline --------------------------------------------------

    def test_readuntil_a_separator_split_across_feeds(self):
        reader = self.reader(data=b"one--t")
        assert self.run(reader.readuntil(b"--")) == b"one--"

        read = reader.readuntil(separator=b"--")
        assert self.read_while_fed(read, reader, (b"wo-", b"-three")) == b"two--"
        assert reader._buffer == b"three"
        with pytest.raises(ValueError, match="at least one-byte"):
            self.run(reader.readuntil(b""))

    def test_readuntil_at_eof_raises_incomplete_and_empties(self):
        reader = self.reader(data=b"no separator", eof=True)
        with pytest.raises(asyncio.IncompleteReadError) as info:
            self.run(reader.readuntil(b"!"))
        assert info.value.partial == b"no separator"
        assert info.value.expected is None
        assert reader._buffer == b""
        reader = self.reader(data=b"line\nrest", eof=True)
        assert self.run(reader.readuntil()) == b"line\n"

    def test_readuntil_over_the_limit(self):
        reader = self.reader(limit=4, data=b"abcdefgh")
        with pytest.raises(asyncio.LimitOverrunError) as info:
            self.run(reader.readuntil(b"!"))
        assert info.value.consumed == 8
        assert "not found" in str(info.value)
        assert reader._buffer == b"abcdefgh"  # left for the caller
        reader = self.reader(limit=4, data=b"abcdefgh!")
        with pytest.raises(asyncio.LimitOverrunError) as info:
            self.run(reader.readuntil(b"!"))
        assert info.value.consumed == 8
        assert "longer than limit" in str(info.value)
        assert reader._buffer == b"abcdefgh!"

    def test_readline(self):
        reader = self.reader(data=b"first\nsec")
        assert self.run(reader.readline()) == b"first\n"
        self.later(0.01, reader.feed_data, b"ond\nthird")
        assert self.run(reader.readline()) == b"second\n"
        reader.feed_eof()
        assert self.run(reader.readline()) == b"third"
        assert self.run(reader.readline()) == b""

    def test_readline_over_the_limit_drops_the_line(self):
        reader = self.reader(limit=4, data=b"too long line\nok\n")
        with pytest.raises(ValueError, match="longer than limit"):
            self.run(reader.readline())
        assert self.run(reader.readline()) == b"ok\n"
        reader = self.reader(limit=4, data=b"no end in sight")
        with pytest.raises(ValueError, match="not found"):
            self.run(reader.readline())
        assert reader._buffer == b""

    def test_async_iteration(self):
        reader = self.reader(data=b"a\nb\nc", eof=True)

        async def main():
            return [line async for line in reader]

        assert self.run(main()) == [b"a\n", b"b\n", b"c"]

    # -- exceptions -------------------------------------------------------------------

    def test_set_exception_fails_the_waiting_read_and_later_ones(self):
        reader = self.reader()
        error = ConnectionResetError("gone")
        self.later(0.01, reader.set_exception, error)
        with pytest.raises(ConnectionResetError, match="gone"):
            self.run(reader.read(10))
        assert reader.exception() is error
        reader.feed_data(b"buffered")  # the exception comes first
        for read in (reader.read(1), reader.readexactly(1), reader.readline(),
                     reader.readuntil(b"x")):
            with pytest.raises(ConnectionResetError):
                self.run(read)

    def test_set_exception_of_a_class(self):
        reader = self.reader()
        reader.set_exception(EOFError)
        with pytest.raises(EOFError):
            self.run(reader.read(1))

    # -- waiting --------------------------------------------------------------------------

    def test_cancelling_a_pending_read_consumes_nothing(self):
        reader = self.reader()

        async def main():
            task = asyncio.ensure_future(reader.read(10))
            await asyncio.sleep(0.01)
            assert reader._waiter is not None
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert reader._waiter is None
            reader.feed_data(b"kept")
            return await reader.read(10)

        assert self.run(main()) == b"kept"

    def test_wait_for_timeout_on_a_read_then_read_again(self):
        reader = self.reader(data=b"ab")

        async def main():
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(reader.readexactly(5), 0.02)
            reader.feed_data(b"cde")
            return await reader.readexactly(5)

        assert self.run(main()) == b"abcde"

    def test_two_reads_waiting_at_once(self):
        reader = self.reader()

        async def main():
            first = asyncio.ensure_future(reader.read(5))
            await asyncio.sleep(0)
            with pytest.raises(RuntimeError, match="already waiting"):
                await reader.readline()
            reader.feed_data(b"data")
            return await first

        assert self.run(main()) == b"data"

    def test_reads_as_tasks_and_gathered(self):
        reader = self.reader(data=b"x\n")

        async def main():
            task = asyncio.create_task(reader.readline())
            assert await task == b"x\n"
            self.later(0.01, reader.feed_data, b"yz")
            return await asyncio.gather(reader.readexactly(2))

        assert self.run(main()) == [b"yz"]

    def test_an_awaited_read_cannot_be_awaited_again(self):
        reader = self.reader(data=b"abc")

        async def main():
            read = reader.read(1)
            assert await read == b"a"
            with pytest.raises(RuntimeError, match="cannot reuse"):
                await read

        self.run(main())

    def test_every_wait_is_on_a_pending_future_of_the_readers_loop(self):
        reader = self.reader()

        async def main():
            got, first = [], None
            for chunk in (b"a", b"b", b"c", b"d"):
                read = asyncio.ensure_future(reader.read(1))
                await asyncio.sleep(0)
                waiter = reader._waiter
                assert type(waiter) is asyncio.Future
                assert not waiter.done() and waiter.get_loop() is self.loop
                if chunk == b"c":
                    waiter.note = "an attribute of its own"
                reader.feed_data(chunk)
                assert reader._waiter is None
                assert waiter.done() and waiter.result() is None
                if first is None:
                    first = waiter  # held: never made into a later wait's future
                del waiter
                got.append(await read)
            assert first.done() and first.result() is None
            return got

        assert self.run(main()) == [b"a", b"b", b"c", b"d"]

    def test_a_read_awaited_by_another_loops_task_fails_as_asyncio(self):
        reader = self.reader()
        self.later(0.01, reader.feed_data, b"a")
        assert self.run(reader.read(1)) == b"a"  # a wait, and its future woken
        other = asyncio.SelectorEventLoop()
        try:
            with pytest.raises(RuntimeError, match="attached to a different loop"):
                other.run_until_complete(asyncio.wait_for(reader.read(1), TIMEOUT))
        finally:
            other.close()
        assert reader._waiter is None
        self.later(0.01, reader.feed_data, b"b")
        assert self.run(reader.read(1)) == b"b"

    # -- read flow control ----------------------------------------------------------------

    def test_pauses_past_twice_the_limit_and_resumes_at_the_limit(self):
        reader = self.reader(limit=4)
        transport = FakeTransport()
        reader.set_transport(transport)
        with pytest.raises(AssertionError):
            reader.set_transport(transport)
        reader.feed_data(b"12345678")
        assert transport.calls == []
        reader.feed_data(b"9")
        assert transport.calls == ["pause"]
        assert "paused" in repr(reader)
        assert self.run(reader.read(4)) == b"1234"
        assert transport.calls == ["pause"]  # 5 left: above the limit
        assert self.run(reader.read(1)) == b"5"
        assert transport.calls == ["pause", "resume"]

    def test_waiting_while_paused_resumes(self):
        reader = self.reader(limit=2)
        transport = FakeTransport()
        reader.set_transport(transport)
        reader.feed_data(b"12345")
        assert transport.calls == ["pause"]
        self.later(0.01, reader.feed_data, b"67")
        assert self.run(reader.readexactly(7)) == b"1234567"
        assert transport.calls[:2] == ["pause", "resume"]

    def test_a_transport_that_cannot_pause_is_forgotten(self):
        reader = self.reader(limit=1)
        reader.set_transport(FakeTransport(can_pause=False))
        reader.feed_data(b"abc")
        assert reader._transport is None
        assert self.run(reader.read(5)) == b"abc"


class TestWeftStreamsOnWeftLoop(ReaderCases, WeftStreams, WeftLoop):
    pass


class TestWeftStreamsOnAsyncioLoop(ReaderCases, WeftStreams, AsyncioLoop):
    pass


class TestAsyncioStreamsOnWeftLoop(ReaderCases, AsyncioStreams, WeftLoop):
    pass


class TestAsyncioStreamsOnAsyncioLoop(ReaderCases, AsyncioStreams, AsyncioLoop):
    pass
