"""add_reader/add_writer/remove_* on a socketpair, and
add_signal_handler/remove_signal_handler with signals sent to ourselves
(os.kill), on weft's loop and asyncio's."""
import os
import signal
import socket

import pytest

from loop_twins import AsyncioLoop, LoopCase, WeftLoop


class IoCases(LoopCase):
    def setup_method(self, method):
        super().setup_method(method)
        self.a, self.b = socket.socketpair()
        self.a.setblocking(False)
        self.b.setblocking(False)

    def teardown_method(self, method):
        if not self.loop.is_closed():
            self.loop.remove_reader(self.a)
            self.loop.remove_writer(self.a)
            self.loop.remove_reader(self.b)
            self.loop.remove_writer(self.b)
        super().teardown_method(method)
        self.a.close()
        self.b.close()

    def test_reader_is_called_while_readable(self):
        chunks = []

        def on_readable():
            chunks.append(self.a.recv(1))  # one byte a call: level-triggered
            if len(chunks) == 3:
                self.loop.stop()

        self.loop.add_reader(self.a, on_readable)
        self.b.send(b"xyz")
        self.loop.call_later(5, self.loop.stop)
        self.loop.run_forever()
        assert chunks == [b"x", b"y", b"z"]
        assert self.loop.remove_reader(self.a) is True
        assert self.loop.remove_reader(self.a) is False

    def test_reader_args_and_replacement(self):
        got = []
        self.loop.add_reader(self.a.fileno(), got.append, "first")
        self.loop.add_reader(self.a.fileno(), lambda tag: (got.append(tag), self.a.recv(10),
                                                           self.loop.stop()), "second")
        self.b.send(b"!")
        self.loop.call_later(5, self.loop.stop)
        self.loop.run_forever()
        assert got == ["second"]

    def test_writer_is_called_when_writable(self):
        calls = []

        def on_writable():
            calls.append(True)
            self.loop.remove_writer(self.b)
            self.loop.stop()

        self.loop.add_writer(self.b, on_writable)
        self.loop.call_later(5, self.loop.stop)
        self.loop.run_forever()
        assert calls == [True]
        assert self.loop.remove_writer(self.b) is False

    def test_reader_and_writer_on_one_fd(self):
        events = []
        self.loop.add_writer(self.a, lambda: (events.append("w"), self.loop.remove_writer(self.a),
                                              self.b.send(b"1")))
        self.loop.add_reader(self.a, lambda: (events.append("r"), self.a.recv(1),
                                              self.loop.stop()))
        self.loop.call_later(5, self.loop.stop)
        self.loop.run_forever()
        assert events == ["w", "r"]

    def test_removed_reader_is_not_called(self):
        called = []
        self.loop.add_reader(self.a, called.append, 1)
        assert self.loop.remove_reader(self.a)
        self.b.send(b"x")
        self.loop.call_later(0.05, self.loop.stop)
        self.loop.run_forever()
        assert called == []

    def test_bad_file_objects(self):
        with pytest.raises((ValueError, TypeError)):
            self.loop.add_reader(-1, print)
        with pytest.raises((ValueError, TypeError)):
            self.loop.add_reader(object(), print)

    def test_signal_handler(self):
        got = []

        def on_signal(tag):
            got.append(tag)
            self.loop.stop()

        self.loop.add_signal_handler(signal.SIGUSR1, on_signal, "usr1")
        self.loop.call_later(0.01, os.kill, os.getpid(), signal.SIGUSR1)
        self.loop.call_later(5, self.loop.stop)
        self.loop.run_forever()
        assert got == ["usr1"]
        assert self.loop.remove_signal_handler(signal.SIGUSR1) is True
        assert self.loop.remove_signal_handler(signal.SIGUSR1) is False
        assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL

    def test_signal_handler_errors(self):
        with pytest.raises(TypeError):
            self.loop.add_signal_handler("SIGUSR1", print)
        with pytest.raises(ValueError):
            self.loop.add_signal_handler(10_000, print)
        with pytest.raises(RuntimeError):
            self.loop.add_signal_handler(signal.SIGKILL, print)

        async def coro():
            pass

        with pytest.raises(TypeError):
            self.loop.add_signal_handler(signal.SIGUSR2, coro)

    def test_sigint_handler_replaces_keyboard_interrupt(self):
        got = []
        self.loop.add_signal_handler(signal.SIGINT, lambda: (got.append(1), self.loop.stop()))
        try:
            self.loop.call_later(0.01, os.kill, os.getpid(), signal.SIGINT)
            self.loop.call_later(5, self.loop.stop)
            self.loop.run_forever()
        finally:
            self.loop.remove_signal_handler(signal.SIGINT)
        assert got == [1]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def test_keyboard_interrupt_while_sleeping(self):
        self.loop.call_later(0.02, os.kill, os.getpid(), signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            self.loop.run_until_complete(__import__("asyncio").sleep(10))


class TestWeftIo(WeftLoop, IoCases):
    pass


class TestAsyncioIo(AsyncioLoop, IoCases):
    pass
