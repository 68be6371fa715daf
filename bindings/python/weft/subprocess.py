"""weft.subprocess: weft.Loop's subprocess_exec and subprocess_shell, so
that asyncio.create_subprocess_exec/_shell work unchanged on weft.

The transport is asyncio's own subprocess transport logic
(asyncio.base_subprocess.BaseSubprocessTransport: pipe protocols,
process_exited/pipe_connection_lost ordering, _wait, close killing a child
still running), started on weft:

- WeftChild: the child spawned by weft_process_spawn (weft/process.h), its
  pipes weft streams taken from the process (weft.pipes.StreamPipe), its
  exit seen by weft_process_wait (weft reaps it; no child watcher, no
  SIGCHLD handler of Python's). Used when every one of stdin/stdout/stderr
  is PIPE, DEVNULL or None and the only other options are cwd and env
  (and the defaults of the rest), which is what weft_process_options says.
  Such a child inherits this process's descriptors that are marked
  inheritable (Python makes none so unless asked: os.set_inheritable),
  where Popen's close_fds=True would close those too.
- Everything else (a file or descriptor as stdin/stdout/stderr,
  stderr=STDOUT, pass_fds, preexec_fn, start_new_session, user/group, ...:
  options weft_process_options has no field for) is spawned by
  subprocess.Popen, as asyncio does; its pipes are adopted as weft streams
  (weft_pipe_open) and its exit is watched through a pidfd on weft's fd
  watch (loop.add_reader), then reaped with waitpid.

A weft child's stdin transport ends when the child exits (asyncio's ends
when the last process holding the pipe's other end closes it: the same
unless the child handed its stdin to a process that outlives it).

Errors are asyncio's: a missing program or cwd raises FileNotFoundError
(errno ENOENT, filename the program or cwd), a program that is not
executable PermissionError, bad arguments ValueError/TypeError, before
anything started.

Thread: the loop's thread. The weft process handle is closed once the exit
status arrived; a loop that closes first ends it with its runtime. A child
still running then is killed when its transport is collected (as asyncio's
transport does) but nobody reaps it any more: it stays a zombie until this
process exits.
"""
import errno
import os
import signal
import subprocess

from asyncio import base_subprocess

from . import capi
from . import errors
from .pipes import StreamPipe

__all__ = ["subprocess_exec", "subprocess_shell"]

_OK = capi.WEFT_OK
_STDIO_MODES = {subprocess.PIPE: capi.WEFT_STDIO_PIPE, subprocess.DEVNULL: capi.WEFT_STDIO_NULL}
# Popen keywords weft_process_spawn honours when they have these values
# (Popen's defaults). Any other keyword, or another value, takes Popen.
_WEFT_DEFAULTS = {"close_fds": True, "executable": None, "preexec_fn": None,
                  "startupinfo": None, "creationflags": 0, "restore_signals": True,
                  "start_new_session": False, "pass_fds": (), "user": None, "group": None,
                  "extra_groups": None, "umask": -1, "pipesize": -1, "process_group": None}


def _check_common(universal_newlines, bufsize, text, encoding, errors_):
    if universal_newlines:
        raise ValueError("universal_newlines must be False")
    if bufsize != 0:
        raise ValueError("bufsize must be 0")
    if text:
        raise ValueError("text must be False")
    if encoding is not None:
        raise ValueError("encoding must be None")
    if errors_ is not None:
        raise ValueError("errors must be None")


async def subprocess_exec(loop, protocol_factory, program, *args, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=False, shell=False, bufsize=0, encoding=None,
                          errors=None, text=None, **kwargs):
    if shell:
        raise ValueError("shell must be False")
    _check_common(universal_newlines, bufsize, text, encoding, errors)
    protocol = protocol_factory()
    transport = await _make_transport(loop, protocol, (program,) + args, False, stdin, stdout,
                                      stderr, kwargs)
    return transport, protocol


async def subprocess_shell(loop, protocol_factory, cmd, *, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=False, shell=True, bufsize=0, encoding=None,
                           errors=None, text=None, **kwargs):
    if not isinstance(cmd, (bytes, str)):
        raise ValueError("cmd must be a string")
    if not shell:
        raise ValueError("shell must be True")
    _check_common(universal_newlines, bufsize, text, encoding, errors)
    protocol = protocol_factory()
    transport = await _make_transport(loop, protocol, cmd, True, stdin, stdout, stderr, kwargs)
    return transport, protocol


async def _make_transport(loop, protocol, args, shell, stdin, stdout, stderr, kwargs):
    waiter = loop.create_future()
    transport = SubprocessTransport(loop, protocol, args, shell, stdin, stdout, stderr, 0,
                                    waiter=waiter, **kwargs)
    try:
        await waiter
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        transport.close()
        await transport._wait()
        raise
    return transport


def _stdio_mode(mode):
    """weft's mode for a Popen stdio argument, or None if weft has none."""
    if mode is None:
        return capi.WEFT_STDIO_INHERIT
    if type(mode) is int:
        return _STDIO_MODES.get(mode)
    return None


def _weft_can_spawn(stdin, stdout, stderr, kwargs):
    if any(_stdio_mode(mode) is None for mode in (stdin, stdout, stderr)):
        return False
    for name, value in kwargs.items():
        if name in ("cwd", "env"):
            continue
        if name not in _WEFT_DEFAULTS or value != _WEFT_DEFAULTS[name]:
            return False
    return True


class SubprocessTransport(base_subprocess.BaseSubprocessTransport):
    """asyncio.SubprocessTransport for weft.Loop (see the module docstring)."""

    def _start(self, args, shell, stdin, stdout, stderr, bufsize, **kwargs):
        if _weft_can_spawn(stdin, stdout, stderr, kwargs):
            self._proc = WeftChild(self, args, shell, stdin, stdout, stderr,
                                   kwargs.get("cwd"), kwargs.get("env"))
        else:
            self._proc = PopenChild(self, args, shell, stdin, stdout, stderr, bufsize, kwargs)

    def _child_exited(self, returncode):
        # From the child's exit watch, on the loop.
        if self._returncode is None and self._loop is not None:
            stdin = self._pipes.get(0)
            if isinstance(self._proc, WeftChild) and stdin is not None and stdin.pipe is not None:
                # The child's end of its stdin closed with it (weft cannot
                # watch that end: see weft.pipes).
                stdin.pipe._peer_gone()
            self._process_exited(returncode)

    def close(self):
        super().close()
        proc = self._proc
        if proc is not None and self._returncode is not None:
            proc.release()


def _fsdecode_args(args):
    out = []
    for arg in args:
        if not isinstance(arg, (str, bytes, os.PathLike)):
            raise TypeError(f"expected str, bytes or os.PathLike object, not "
                            f"{type(arg).__name__}")
        out.append(os.fsdecode(arg))
    return out


def _env_entries(env):
    if env is None:
        return None
    entries = []
    for key, value in env.items():
        key = os.fsdecode(key)
        value = os.fsdecode(value)
        if "=" in key or not key:
            raise ValueError("illegal environment variable name")
        if "\0" in key or "\0" in value:
            raise ValueError("embedded null byte")
        entries.append(f"{key}={value}")
    return entries


def _spawn_error(exc, program, cwd):
    """weft_process_spawn's failure as Popen raises it."""
    if isinstance(exc, errors.Error) and isinstance(exc, OSError):
        number = exc.errno_value or errno.EIO
        filename = program
        if cwd is not None and number == errno.ENOENT and not os.path.isdir(cwd):
            filename = os.fsdecode(cwd)
        return OSError(number, os.strerror(number), filename)
    if isinstance(exc, errors.Error) and exc.status == capi.WEFT_ERR_INVALID_ARGUMENT:
        return ValueError(exc.message)
    return exc


class WeftChild:
    """A child spawned by weft_process_spawn, with the parts of
    subprocess.Popen's interface asyncio's transport uses (pid, returncode,
    stdin/stdout/stderr, poll, send_signal, terminate, kill)."""

    def __init__(self, transport, args, shell, stdin, stdout, stderr, cwd, env):
        if shell:
            args = ["/bin/sh", "-c", os.fsdecode(args)]
        else:
            args = _fsdecode_args(args)
        if any("\0" in arg for arg in args):
            raise ValueError("embedded null byte")
        options = capi.weft_process_options()
        options.file = args[0]
        options.set_args(args)
        options.set_env(_env_entries(env))
        if cwd is not None:
            options.cwd = os.fsdecode(cwd)
        options.stdin_mode = _stdio_mode(stdin)
        options.stdout_mode = _stdio_mode(stdout)
        options.stderr_mode = _stdio_mode(stderr)
        loop = transport._loop
        try:
            self._process = capi.weft_process_spawn(loop._weft_loop_handle(), options)
        except errors.Error as exc:
            raise _spawn_error(exc, args[0], cwd) from None
        self.args = args
        self.returncode = None
        self._exit = None
        self.pid = capi.weft_process_pid(self._process)
        self.stdin = self.stdout = self.stderr = None
        if stdin == subprocess.PIPE:
            self.stdin = StreamPipe(loop, capi.weft_process_stdin(self._process), "stdin")
        if stdout == subprocess.PIPE:
            self.stdout = StreamPipe(loop, capi.weft_process_stdout(self._process), "stdout")
        if stderr == subprocess.PIPE:
            self.stderr = StreamPipe(loop, capi.weft_process_stderr(self._process), "stderr")
        self._loop = loop
        self._transport = transport
        capi.weft_future_release(capi.weft_process_wait(self._process, self._on_exit))

    def __repr__(self):
        return f"<WeftChild: returncode: {self.returncode} args: {self.args!r}>"

    def _on_exit(self, status, message, exit_code, term_signal):
        # weft's callback, on the loop thread.
        transport, self._transport = self._transport, None
        if status != _OK:
            self.release()
            return
        self._exit = -term_signal if term_signal else exit_code
        self.release()
        if transport is not None and not self._loop.is_closed():
            self._loop.call_soon(transport._child_exited, self._exit)

    def release(self):
        """Ends the weft process handle (the child is left as it is)."""
        process, self._process = self._process, None
        if process is not None and not self._loop.is_closed():
            try:
                capi.weft_process_close(process)
            except errors.Error:
                pass

    def poll(self):
        """The exit status, once the child has exited (also before weft
        reports it: peeked at without reaping, which stays weft's)."""
        if self.returncode is None:
            if self._exit is None:
                self._peek(os.WNOHANG)
            if self._exit is not None:
                self.returncode = self._exit
        return self.returncode

    def wait(self, timeout=None):
        """Blocks until the child exits (as Popen.wait); weft still reaps it."""
        if timeout is not None:
            raise ValueError("WeftChild.wait takes no timeout")
        if self._exit is None:
            self._peek(0)
        return self.poll()

    def _peek(self, flags):
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT | flags)
        except ChildProcessError:
            return  # reaped already: weft's exit callback is on its way
        if info is not None:
            exited = info.si_code == os.CLD_EXITED
            self._exit = info.si_status if exited else -info.si_status

    def send_signal(self, sig):
        if self.poll() is not None:
            return  # exited: as Popen, nothing to do
        if self._process is None:
            # The handle ended with the loop's runtime; the child lives on,
            # unreaped (so its pid is still its own).
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            return
        try:
            capi.weft_process_kill(self._process, sig)
        except errors.Error as exc:
            if exc.status == capi.WEFT_ERR_ALREADY_COMPLETED:
                return
            if exc.status == capi.WEFT_ERR_INVALID_ARGUMENT:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL)) from None
            raise

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class PopenChild(subprocess.Popen):
    """A child spawned by subprocess.Popen (the options weft_process_options
    cannot express), its exit watched through a pidfd on the loop."""

    def __init__(self, transport, args, shell, stdin, stdout, stderr, bufsize, kwargs):
        super().__init__(args, shell=shell, stdin=stdin, stdout=stdout, stderr=stderr,
                         universal_newlines=False, bufsize=bufsize, **kwargs)
        self._loop = transport._loop
        self._transport = transport
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except OSError:
            self.kill()
            self.wait()
            raise
        self._loop.add_reader(self._pidfd, self._on_exit)

    def _on_exit(self):
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, None  # Popen.poll() reaped it
        if pid == 0:
            return
        if status is not None and self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(status)
        self.release()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport._child_exited(self.returncode if self.returncode is not None else 255)

    def release(self):
        pidfd, self._pidfd = getattr(self, "_pidfd", None), None
        if pidfd is not None:
            if not self._loop.is_closed():
                self._loop.remove_reader(pidfd)
            os.close(pidfd)

    def __del__(self):
        # The loop closed before the child exited: its watch went with the
        # loop; the pidfd goes now.
        pidfd, self._pidfd = getattr(self, "_pidfd", None), None
        if pidfd is not None:
            os.close(pidfd)
        super().__del__()

