"""weft.capi I/O with Python callbacks: TCP echo over 127.0.0.1, Unix
sockets and socket pairs, UDP, name resolution, files, child processes and
signals. Raw C API coverage (the asyncio transports come later)."""
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402
from weft import capi, errors  # noqa: E402
from helpers.runtime import MS, Runtime, wait_outcome  # noqa: E402

SEC = 1000 * MS


@pytest.fixture
def rt():
    with Runtime(threads=2) as runtime:
        yield runtime


def release(*futures):
    for f in futures:
        capi.weft_future_release(f)


def test_tcp_echo_over_loopback(rt):
    options = capi.weft_tcp_listen_options_init()
    options.backlog = 16
    listener = capi.weft_tcp_listen(rt.loop, "127.0.0.1", 0, options)
    port = capi.weft_tcp_listener_port(listener)
    assert port > 0 and capi.weft_tcp_listener_address(listener) == ("127.0.0.1", port)
    server = {}

    def on_read(status, message, data):
        server["read"] = (status, data)
        if status == capi.WEFT_OK:
            release(capi.weft_stream_write(server["stream"], data.upper(), None))

    def on_accept(status, message, stream):
        server["stream"] = stream
        release(capi.weft_stream_read_until(stream, b"\n", 1024, on_read))

    accept = capi.weft_tcp_accept(listener, on_accept)
    client = {}
    connect = capi.weft_tcp_connect(rt.loop, "127.0.0.1", port, 5 * SEC,
                                    lambda s, m, stream: client.update(stream=stream, status=s))
    rt.run_until(lambda: "stream" in client and "stream" in server)
    stream = client["stream"]
    assert client["status"] == capi.WEFT_OK
    capi.weft_tcp_set_nodelay(stream, 1)
    capi.weft_tcp_set_keepalive(stream, 1, 30 * SEC)
    assert capi.weft_tcp_peer_address(stream) == ("127.0.0.1", port)
    assert capi.weft_tcp_local_address(stream)[0] == "127.0.0.1"
    limits = capi.weft_stream_limits_init()
    limits.write_high_water = 1 << 16
    capi.weft_stream_set_limits(stream, limits)
    written = []
    release(capi.weft_stream_write(stream, bytearray(b"hello weft\n"), lambda s, m: written.append(s)))
    release(capi.weft_stream_drain(stream, None))
    assert capi.weft_stream_write_buffered(stream) >= 0
    echo = capi.weft_stream_read_exactly(stream, 11, None)
    assert wait_outcome(rt, echo) == (capi.WEFT_OK, b"HELLO WEFT\n", None)
    assert written == [capi.WEFT_OK] and capi.weft_stream_read_buffered(stream) == 0
    shut = capi.weft_stream_shutdown(stream, None)
    assert wait_outcome(rt, shut)[0] == capi.WEFT_OK
    eof = capi.weft_stream_read(server["stream"], 100, None)
    assert wait_outcome(rt, eof)[0] == capi.WEFT_ERR_END_OF_FILE
    release(accept, connect, echo, shut, eof)
    capi.weft_stream_close(stream)
    capi.weft_stream_close(server["stream"])
    capi.weft_tcp_listener_close(listener)


def test_tcp_connect_refused_and_bad_host(rt):
    listener = capi.weft_tcp_listen(rt.loop, "127.0.0.1", 0, None)
    port = capi.weft_tcp_listener_port(listener)
    capi.weft_tcp_listener_close(listener)  # nobody listens there now
    got = []
    f = capi.weft_tcp_connect(rt.loop, "127.0.0.1", port, 5 * SEC, lambda *o: got.append(o))
    status, _, message = wait_outcome(rt, f)
    assert status == capi.WEFT_ERR_CONNECTION_REFUSED and message
    rt.run_until(lambda: got)
    assert got[0][0] == capi.WEFT_ERR_CONNECTION_REFUSED and got[0][2] is None
    assert isinstance(errors.from_status(status, message), ConnectionRefusedError)
    release(f)
    with pytest.raises(errors.InvalidArgumentError) as failure:
        capi.weft_tcp_listen(rt.loop, "not an address", 0, None)
    assert "weft_tcp_listen" in failure.value.message


def test_socket_pairs_and_unix_sockets(rt, tmp_path):
    a, b = capi.weft_pipe_pair(rt.loop)
    release(capi.weft_stream_write(a, b"ping", None))
    got = capi.weft_stream_read(b, 16, None)
    assert wait_outcome(rt, got)[1] == b"ping"
    release(got)
    capi.weft_stream_close(a)
    capi.weft_stream_close(b)

    path = str(tmp_path / "weft.sock")
    options = capi.weft_pipe_listen_options_init()
    listener = capi.weft_pipe_listen(rt.loop, path, options)
    assert capi.weft_pipe_listener_path(listener) == path
    accepted = capi.weft_pipe_accept(listener, None)
    connected = capi.weft_pipe_connect(rt.loop, path, 5 * SEC, None)
    wait_outcome(rt, accepted)
    status, client, _ = wait_outcome(rt, connected)
    assert status == capi.WEFT_OK
    release(accepted, connected)
    capi.weft_pipe_listener_close(listener)
    assert not os.path.exists(path)

    read_end, write_end = os.pipe()
    stream = capi.weft_pipe_open(rt.loop, read_end)  # the stream owns read_end now
    os.write(write_end, b"from a pipe")
    os.close(write_end)
    data = capi.weft_stream_read(stream, 64, None)
    assert wait_outcome(rt, data)[1] == b"from a pipe"
    release(data)
    capi.weft_stream_close(stream)


def test_stream_read_into_a_writable_buffer(rt):
    a, b = capi.weft_pipe_pair(rt.loop)
    buffer = bytearray(8)
    got = []
    release(capi.weft_stream_write(a, b"hello, world", None))
    read = capi.weft_stream_read_into(b, buffer, lambda *outcome: got.append(outcome))
    status, count, _ = wait_outcome(rt, read)
    assert (status, count) == (capi.WEFT_OK, 8)
    rt.run_until(lambda: got)
    assert got == [(capi.WEFT_OK, None, 8)] and bytes(buffer) == b"hello, w"
    release(read)
    view = memoryview(bytearray(16))[4:]
    read = capi.weft_stream_read_into(b, view)
    assert wait_outcome(rt, read)[:2] == (capi.WEFT_OK, 4)
    assert bytes(view[:4]) == b"orld"
    release(read)
    # A buffer that is not writable, or empty, is refused; nothing is read.
    for bad in (b"read-only", bytearray()):
        with pytest.raises(errors.InvalidArgumentError):
            capi.weft_stream_read_into(b, bad, None)
    capi.weft_stream_close(a)
    read = capi.weft_stream_read_into(b, buffer, None)
    assert wait_outcome(rt, read)[0] == capi.WEFT_ERR_END_OF_FILE
    release(read)
    capi.weft_stream_close(b)


def test_udp_send_and_receive(rt):
    options = capi.weft_udp_bind_options_init()
    options.max_queued = 8
    receiver = capi.weft_udp_bind(rt.loop, "127.0.0.1", 0, options)
    sender = capi.weft_udp_bind(rt.loop, "127.0.0.1", 0, None)
    rport = capi.weft_udp_local_address(receiver)[1]
    sport = capi.weft_udp_local_address(sender)[1]
    got = []
    recv = capi.weft_udp_recv_from(receiver, lambda *o: got.append(o))
    sent = capi.weft_udp_send_to(sender, b"datagram", "127.0.0.1", rport, None)
    assert wait_outcome(rt, sent)[0] == capi.WEFT_OK
    status, pointer, _ = wait_outcome(rt, recv)
    assert status == capi.WEFT_OK
    assert capi.datagram_at(pointer) == (b"datagram", ("127.0.0.1", sport), False)
    rt.run_until(lambda: got)
    assert got == [(capi.WEFT_OK, None, b"datagram", ("127.0.0.1", sport), False)]
    release(recv, sent)
    pending = capi.weft_udp_recv_from(receiver, None)
    capi.weft_udp_close(receiver)  # the pending receive is cancelled
    assert wait_outcome(rt, pending)[0] == capi.WEFT_ERR_CANCELLED
    release(pending)
    capi.weft_udp_close(sender)


def test_resolve_numeric_and_localhost(rt):
    got = []
    options = capi.weft_resolve_options_init()
    options.family = capi.WEFT_RESOLVE_IPV4
    options.executor = rt.pool
    f = capi.weft_resolve(rt.loop, "127.0.0.1", 8080, options, lambda *o: got.append(o))
    status, pointer, _ = wait_outcome(rt, f)
    assert status == capi.WEFT_OK and capi.address_list_at(pointer) == [("127.0.0.1", 8080)]
    rt.run_until(lambda: got)
    assert got == [(capi.WEFT_OK, None, [("127.0.0.1", 8080)])]
    release(f)
    g = capi.weft_resolve(rt.loop, "localhost", 1, options, None)
    status, pointer, _ = wait_outcome(rt, g)
    assert status == capi.WEFT_OK and ("127.0.0.1", 1) in capi.address_list_at(pointer)
    release(g)
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_resolve(rt.loop, "", 1, None, None)


def test_files(rt, tmp_path):
    path = str(tmp_path / "data.bin")
    options = capi.weft_file_options_init()
    options.permissions = 0o600
    wrote = capi.weft_file_write_all(rt.loop, path, b"0123456789", options, None)
    assert wait_outcome(rt, wrote)[0] == capi.WEFT_OK
    assert os.stat(path).st_mode & 0o777 == 0o600
    whole = capi.weft_file_read_all(rt.loop, path, None, None)
    assert wait_outcome(rt, whole)[1] == b"0123456789"
    files = []
    opened = capi.weft_file_open(rt.loop, path, capi.WEFT_FILE_READ_WRITE, None,
                                 lambda s, m, f: files.append(f))
    rt.run_until(lambda: files)
    file = files[0]
    sizes = []
    at = capi.weft_file_write_at(file, 10, b"AB", lambda s, m, n: sizes.append(n))
    wait_outcome(rt, at)
    size = capi.weft_file_size(file, lambda s, m, n: sizes.append(n))
    wait_outcome(rt, size)
    part = capi.weft_file_read_at(file, 8, 100, None)
    assert wait_outcome(rt, part)[1] == b"89AB"
    synced = capi.weft_file_sync(file, None)
    assert wait_outcome(rt, synced)[0] == capi.WEFT_OK
    rt.run_until(lambda: len(sizes) == 2)
    assert sizes == [2, 12]
    capi.weft_file_close(file)
    missing = capi.weft_file_read_all(rt.loop, str(tmp_path / "missing"), None, None)
    status, _, message = wait_outcome(rt, missing)
    assert status == capi.WEFT_ERR_NOT_FOUND and "missing" in message
    release(wrote, whole, opened, at, size, part, synced, missing)


def test_a_child_process_with_pipes(rt, tmp_path):
    options = capi.weft_process_options_init()
    options.file = "/bin/sh"
    options.set_args(["sh", "-c", 'read line; echo "got $line in $PWD"; exit 3'])
    options.set_env(["PATH=/usr/bin:/bin"])
    options.cwd = str(tmp_path)
    options.stdin_mode = capi.WEFT_STDIO_PIPE
    options.stdout_mode = capi.WEFT_STDIO_PIPE
    options.stderr_mode = capi.WEFT_STDIO_NULL
    child = capi.weft_process_spawn(rt.loop, options)
    assert capi.weft_process_pid(child) > 0
    stdin, stdout = capi.weft_process_stdin(child), capi.weft_process_stdout(child)
    with pytest.raises(errors.Error):
        capi.weft_process_stderr(child)  # not a pipe
    release(capi.weft_stream_write(stdin, b"hello\n", None))
    line = capi.weft_stream_read_until(stdout, b"\n", 4096, None)
    assert wait_outcome(rt, line)[1] == ("got hello in %s\n" % tmp_path).encode()
    exits = []
    waited = capi.weft_process_wait(child, lambda *o: exits.append(o))
    wait_outcome(rt, waited)
    rt.run_until(lambda: exits)
    assert exits == [(capi.WEFT_OK, None, 3, 0)]
    release(line, waited)
    capi.weft_stream_close(stdin)
    capi.weft_stream_close(stdout)
    capi.weft_process_close(child)

    sleeper = capi.weft_process_options()
    sleeper.file = "sleep"
    sleeper.set_args(["sleep", "30"])
    child = capi.weft_process_spawn(rt.loop, sleeper)
    capi.weft_process_kill(child, signal.SIGTERM)
    exits = []
    waited = capi.weft_process_wait(child, lambda *o: exits.append(o))
    rt.run_until(lambda: exits)
    assert exits == [(capi.WEFT_OK, None, 0, signal.SIGTERM)]
    release(waited)
    capi.weft_process_close(child)

    bad = capi.weft_process_options()
    with pytest.raises(errors.InvalidArgumentError):  # no file, no args
        capi.weft_process_spawn(rt.loop, bad)
    with pytest.raises(TypeError):
        bad.set_args([1, 2])


def test_signals(rt):
    watch = capi.weft_signal_watch(rt.loop, signal.SIGUSR1)
    got = []
    waiting = capi.weft_signal_wait(watch, lambda *o: got.append(o))
    os.kill(os.getpid(), signal.SIGUSR1)
    rt.run_until(lambda: got)
    assert got == [(capi.WEFT_OK, None, signal.SIGUSR1)]
    again = capi.weft_signal_wait(watch, lambda *o: got.append(o))
    capi.weft_signal_close(watch)  # the pending wait: cancelled, signum 0
    assert got[1] == (capi.WEFT_ERR_CANCELLED, got[1][1], 0) and got[1][1]
    release(waiting, again)
    shutdown = capi.weft_signal_shutdown(rt.loop, lambda *o: got.append(o))
    capi.weft_signal_close(shutdown)
    assert got[2][0] == capi.WEFT_ERR_CANCELLED
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_signal_watch(rt.loop, 0)


def test_fd_watch_readiness_and_close(rt):
    read_end, write_end = os.pipe()
    try:
        watch = capi.weft_fd_watch(rt.loop, read_end)  # the fd stays ours
        got = []
        readable = capi.weft_fd_wait(watch, capi.WEFT_FD_READABLE, lambda *o: got.append(o))
        with pytest.raises(errors.Error):  # one pending wait per direction
            capi.weft_fd_wait(watch, capi.WEFT_FD_READABLE, None)
        os.write(write_end, b"x")
        rt.run_until(lambda: got)
        assert got == [(capi.WEFT_OK, None, capi.WEFT_FD_READABLE)]
        again = capi.weft_fd_wait(watch, capi.WEFT_FD_READABLE, lambda *o: got.append(o))
        os.read(read_end, 1)
        capi.weft_fd_watch_close(watch)  # the pending wait is cancelled
        assert wait_outcome(rt, again)[0] == capi.WEFT_ERR_CANCELLED
        rt.run_until(lambda: len(got) == 2)
        assert got[1][0] == capi.WEFT_ERR_CANCELLED
        release(readable, again)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_wait_hook_brackets_the_loop_waits(rt):
    calls = []
    capi.weft_loop_set_wait_hook(rt.loop, calls.append)
    # 100 ms: long enough that the loop must wait for it, however slow the build.
    timer = capi.weft_loop_call_later(rt.loop, 100 * MS, None)
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_DEFAULT)
    assert calls and calls[0] == 1 and calls == [1, 0] * (len(calls) // 2)
    capi.weft_loop_set_wait_hook(rt.loop, None)
    calls.clear()
    release(timer)
    timer = capi.weft_loop_call_later(rt.loop, 2 * MS, None)
    capi.weft_loop_run(rt.loop, capi.WEFT_RUN_DEFAULT)
    assert calls == []
    release(timer)
    with pytest.raises(errors.InvalidArgumentError):
        capi.weft_loop_set_wait_hook(rt.loop, "not a hook")
