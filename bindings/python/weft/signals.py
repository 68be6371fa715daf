"""weft.signals: signals for weft.Loop, as asyncio's Unix loop has them.

Python runs its signal handlers on the main thread between bytecodes; a
loop asleep in the kernel would not notice. So while a loop runs on the
main thread (and while it has handlers from add_signal_handler), the C
signal handler's wake-up fd (signal.set_wakeup_fd) is one end of a
socketpair whose other end the loop reads (add_reader, weft_fd_watch): a
signal wakes the loop, the reader runs Python code, Python runs its
handler — SIGINT's raises KeyboardInterrupt out of run_forever — and the
bytes read name the signals whose add_signal_handler callbacks to queue.

Thread: the main thread (set_wakeup_fd's rule); the reader runs on the loop.
"""
import signal
import socket
import threading


def check_signal(sig):
    if not isinstance(sig, int):
        raise TypeError(f"sig must be an int, not {sig!r}")
    if sig not in signal.valid_signals():
        raise ValueError(f"invalid signal number {sig}")


def _noop_handler(signum, frame):
    pass


class SignalState:
    """One loop's wake-up socketpair, its reader, and its signal handlers."""

    def __init__(self, loop):
        self._loop = loop
        self._handlers = {}  # signum -> weft handle
        self._pair = None
        self._previous_wakeup_fd = None
        self._installed = False
        self._running = False

    # The wake-up fd is ours while the loop runs on the main thread or has
    # handlers.
    def _wanted(self):
        return bool(self._handlers) or self._running

    def _install(self):
        if self._installed or threading.current_thread() is not threading.main_thread():
            return
        if self._pair is None:
            self._pair = socket.socketpair()
            for sock in self._pair:
                sock.setblocking(False)
        previous = signal.set_wakeup_fd(self._pair[1].fileno(), warn_on_full_buffer=False)
        self._previous_wakeup_fd = previous
        self._loop.add_reader(self._pair[0].fileno(), self._read_wakeups)
        self._installed = True

    def _uninstall(self):
        if not self._installed:
            return
        self._installed = False
        self._loop.remove_reader(self._pair[0].fileno())
        try:
            signal.set_wakeup_fd(self._previous_wakeup_fd if self._previous_wakeup_fd is not None
                                 else -1)
        except ValueError:
            pass
        self._previous_wakeup_fd = None

    def _read_wakeups(self):
        # Reaching this line already ran Python's handlers for the signals
        # that arrived (SIGINT's default raises here).
        try:
            data = self._pair[0].recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        for signum in data:
            handle = self._handlers.get(signum)
            if handle is not None and not handle.cancelled():
                self._loop._add_ready(handle)

    def start_running(self):
        self._running = True
        self._install()

    def stop_running(self):
        self._running = False
        if not self._wanted():
            self._uninstall()

    def add(self, sig, handle):
        check_signal(sig)
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("signal handlers can only be added on the main thread")
        self._install()
        self._handlers[sig] = handle
        try:
            signal.signal(sig, _noop_handler)
            signal.siginterrupt(sig, False)
        except OSError as exc:
            del self._handlers[sig]
            if not self._wanted():
                self._uninstall()
            raise RuntimeError(f"sig {sig:d} cannot be caught") from exc

    def remove(self, sig):
        check_signal(sig)
        handle = self._handlers.pop(sig, None)
        if handle is None:
            return False
        handle.cancel()
        default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        try:
            signal.signal(sig, default)
        except OSError as exc:
            raise RuntimeError(f"sig {sig:d} cannot be caught") from exc
        if not self._wanted():
            self._uninstall()
        return True

    def close(self):
        for sig in list(self._handlers):
            self.remove(sig)
        self._uninstall()
        if self._pair is not None:
            for sock in self._pair:
                sock.close()
            self._pair = None
