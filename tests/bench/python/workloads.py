"""The Python versions of the benchmark workloads (docs: /tests/bench/README.md,
"Python and Lua versions"), written idiomatically against any asyncio loop.

Each workload is `run(loop, n) -> dict` with `seconds` (the timed part) and
`ops`, plus its own fields; it checks its own result and raises
WorkloadFailed when the loop lost, doubled or reordered work. Runs on the
thread that calls it (the loop's thread); W10 starts one thread of its own
and joins it; W11 starts the load generator (echo_load, next to this file)
as a child process and one thread that waits for it; W11's bulk receive
starts a sender process (this interpreter). The caller owns the loop and closes it.
"""
import asyncio
import gc
import json
import os
import queue
import resource
import subprocess
import sys
import threading
import time

perf_counter = time.perf_counter


class WorkloadFailed(Exception):
    pass


def _splitmix64_delays(count, low, high, seed):
    """`count` deterministic pseudo-random integers in [low, high]."""
    mask = (1 << 64) - 1
    state, span, delays = seed, high - low + 1, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        delays.append(low + (z ^ (z >> 31)) % span)
    return delays


def rss_kb():
    """Resident set size now, in KiB (/proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE") // 1024


def peak_rss_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def w1_callbacks_chain(loop, n):
    """A callback re-posting itself with call_soon, n times."""
    count = 0

    def step():
        nonlocal count
        count += 1
        if count < n:
            loop.call_soon(step)
        else:
            loop.stop()

    start = perf_counter()
    loop.call_soon(step)
    loop.run_forever()
    seconds = perf_counter() - start
    if count != n:
        raise WorkloadFailed("ran %d callbacks of %d" % (count, n))
    return {"seconds": seconds, "ops": n}


def w2_callbacks_burst(loop, n):
    """n callbacks posted at once, then the loop runs until all ran."""
    ran = 0

    def callback():
        nonlocal ran
        ran += 1

    call_soon = loop.call_soon
    start = perf_counter()
    for _ in range(n):
        call_soon(callback)
    posted = perf_counter()
    call_soon(loop.stop)
    loop.run_forever()
    seconds = perf_counter() - start
    if ran != n:
        raise WorkloadFailed("ran %d callbacks of %d" % (ran, n))
    return {"seconds": seconds, "ops": n, "post_ns_per_op": (posted - start) * 1e9 / n}


def w3_timers_churn(loop, n):
    """n timers armed 1..60 s out with call_later, then each cancelled."""
    delays = [d / 1000.0 for d in _splitmix64_delays(n, 1000, 60000, 3)]
    fired = 0

    def callback():
        nonlocal fired
        fired += 1

    call_later = loop.call_later
    start = perf_counter()
    handles = [call_later(delay, callback) for delay in delays]
    armed = perf_counter()
    for handle in handles:
        handle.cancel()
    end = perf_counter()
    loop.call_soon(loop.stop)
    loop.run_forever()  # not timed: a cancelled timer must never run
    if fired or not all(handle.cancelled() for handle in handles):
        raise WorkloadFailed("%d cancelled timers fired" % fired)
    return {"seconds": (armed - start) + (end - armed), "ops": n,
            "arm_ns_per_op": (armed - start) * 1e9 / n,
            "cancel_ns_per_op": (end - armed) * 1e9 / n}


def w4_timers_fire(loop, n):
    """n timers over 0..50 ms with call_later, run until all fired."""
    delays = [d / 1000.0 for d in _splitmix64_delays(n, 0, 50, 4)]
    fired = 0
    last = None

    def callback():
        nonlocal fired, last
        fired += 1
        if fired == n:
            last = perf_counter()
            loop.stop()

    start = perf_counter()
    for delay in delays:
        loop.call_later(delay, callback)
    armed = perf_counter()
    loop.run_forever()
    if fired != n:
        raise WorkloadFailed("fired %d timers of %d" % (fired, n))
    elapsed = last - start
    # Not checked against the longest delay: a loop that measures delays from
    # a cached "now" (libuv's, so uvloop's) fires them early by that much.
    return {"seconds": elapsed, "ops": n, "elapsed_ms": elapsed * 1e3,
            "arm_ms": (armed - start) * 1e3, "longest_ms": max(delays) * 1e3}


def w5_futures(loop, n):
    """n times create_future + add_done_callback + set_result; run until all
    continuations ran."""
    total = 0

    def continuation(future):
        nonlocal total
        total += future.result()

    create_future = loop.create_future
    start = perf_counter()
    for i in range(n):
        future = create_future()
        future.add_done_callback(continuation)
        future.set_result(i)
    loop.call_soon(loop.stop)
    loop.run_forever()
    seconds = perf_counter() - start
    if total != n * (n - 1) // 2:
        raise WorkloadFailed("continuations summed %d" % total)
    return {"seconds": seconds, "ops": n}


async def _one_yield(i):
    await asyncio.sleep(0)
    return i


def w6_tasks(loop, n):
    """n tasks (create_task of a coroutine with one await asyncio.sleep(0)),
    gathered and summed."""
    async def main():
        create_task = loop.create_task
        tasks = [create_task(_one_yield(i)) for i in range(n)]
        return sum(await asyncio.gather(*tasks))

    start = perf_counter()
    total = loop.run_until_complete(main())
    seconds = perf_counter() - start
    if total != n * (n - 1) // 2:
        raise WorkloadFailed("tasks summed %d" % total)
    return {"seconds": seconds, "ops": n, "rss_kb": peak_rss_kb()}


def w7_tasks_memory(loop, n):
    """n tasks each suspended in asyncio.sleep(3600); RSS growth per task;
    then all cancelled."""
    async def main():
        gc.collect()
        before = rss_kb()
        start = perf_counter()
        tasks = [loop.create_task(asyncio.sleep(3600)) for _ in range(n)]
        await asyncio.sleep(0)  # every task has started and is suspended
        seconds = perf_counter() - start
        after = rss_kb()
        suspended = sum(1 for t in tasks if not t.done())
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        cancelled = sum(1 for o in outcomes if isinstance(o, asyncio.CancelledError))
        return before, after, seconds, suspended, cancelled

    before, after, seconds, suspended, cancelled = loop.run_until_complete(main())
    if suspended != n or cancelled != n:
        raise WorkloadFailed("%d suspended, %d cancelled of %d" % (suspended, cancelled, n))
    return {"seconds": seconds, "ops": n, "rss_kb": after,
            "bytes_per_task": (after - before) * 1024.0 / n}


def _trivial():
    return 1


def w9_offload(loop, n, in_flight=64):
    """n trivial blocking calls with run_in_executor(None, f), at most 64 in
    flight, each awaited on the loop."""
    async def worker(count):
        done = 0
        for _ in range(count):
            done += await loop.run_in_executor(None, _trivial)
        return done

    async def main():
        shares = [n // in_flight + (1 if i < n % in_flight else 0) for i in range(in_flight)]
        return sum(await asyncio.gather(*(worker(k) for k in shares if k)))

    loop.run_until_complete(loop.run_in_executor(None, _trivial))  # start the pool: not timed
    cpu = time.process_time()
    start = perf_counter()
    done = loop.run_until_complete(main())
    seconds = perf_counter() - start
    cpu = time.process_time() - cpu
    if done != n:
        raise WorkloadFailed("%d calls returned of %d" % (done, n))
    return {"seconds": seconds, "ops": n, "cpu_ns_per_op": cpu * 1e9 / n}


def w10_threadsafe_pingpong(loop, n):
    """A thread posts with call_soon_threadsafe, the loop answers through a
    queue; n round trips."""
    replies = queue.SimpleQueue()
    finished = loop.create_future()
    pings = 0
    failure = []

    def on_ping():
        nonlocal pings
        pings += 1
        replies.put(pings)

    def pinger():
        try:
            for i in range(1, n + 1):
                loop.call_soon_threadsafe(on_ping)
                if replies.get(timeout=30) != i:
                    raise WorkloadFailed("reply out of order")
        except BaseException as e:  # reported on the loop thread
            failure.append(e)
        loop.call_soon_threadsafe(finished.set_result, None)

    thread = threading.Thread(target=pinger)
    cpu = time.process_time()
    start = perf_counter()
    thread.start()
    loop.run_until_complete(finished)
    seconds = perf_counter() - start
    cpu = time.process_time() - cpu
    thread.join()
    if failure:
        raise WorkloadFailed("pinger: %r" % failure[0])
    if pings != n:
        raise WorkloadFailed("%d pings of %d" % (pings, n))
    return {"seconds": seconds, "ops": n, "us_per_round_trip": seconds * 1e6 / n,
            "cpu_ns_per_op": cpu * 1e9 / n}


class _EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def _echo_stream(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


def _echo_load_program():
    # bench.py runs each measurement in the runfiles directory, where Bazel
    # puts the program; this file itself may be imported from the sources.
    for directory in (os.getcwd(), os.path.dirname(os.path.abspath(__file__))):
        path = os.path.join(directory, "echo_load")
        if os.access(path, os.X_OK):
            return path
    raise WorkloadFailed("echo_load (//tests/bench/python:echo_load) not found")


ECHO_CONNECTIONS = 64


def _start_echo_server(loop, kind):
    if kind == "protocol":
        return loop.create_server(_EchoProtocol, "127.0.0.1", 0)
    if kind == "streams":
        return asyncio.start_server(_echo_stream, "127.0.0.1", 0)
    if kind == "weft_streams":
        # The same handler on weft's streams (weft.streams), on any loop.
        import weft
        return weft.start_server(_echo_stream, "127.0.0.1", 0)
    raise ValueError(kind)


def _w11_echo(loop, n, message_size, kind, connections=ECHO_CONNECTIONS):
    """An echo server on the loop (`kind`: a Protocol, asyncio's streams, or
    weft.streams with the same handler), driven by W11's load generator
    (echo_load, C on libuv, in its own process): `connections` connections
    with one message in flight each, n round trips."""
    server = loop.run_until_complete(_start_echo_server(loop, kind))
    port = server.sockets[0].getsockname()[1]
    # The server's CPU (this process: the loop's thread, the runtime's
    # threads, the thread that waits for the client) while it serves: a
    # figure the load of a shared machine moves far less than round trips/s.
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    client = subprocess.Popen([_echo_load_program(), str(port), str(connections), str(message_size),
                               str(n)], stdout=subprocess.PIPE, text=True)

    def wait_for_client():
        client.wait()
        loop.call_soon_threadsafe(loop.stop)

    waiter = threading.Thread(target=wait_for_client)
    waiter.start()
    try:
        loop.run_forever()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        waiter.join()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.run_until_complete(asyncio.sleep(0.01))  # the connections' ends
    report = json.loads(client.stdout.read())
    client.stdout.close()
    if client.returncode != 0 or report["error"]:
        raise WorkloadFailed("echo_load: %s (exit %d)" % (report["error"], client.returncode))
    if report["round_trips"] != n:
        raise WorkloadFailed("%d round trips of %d" % (report["round_trips"], n))
    seconds = report["seconds"]
    return {"seconds": seconds, "ops": n, "p50_us": report["p50_us"], "p99_us": report["p99_us"],
            "mb_per_s": message_size * n / seconds / 1e6,
            "server_user_us": (cpu_after.ru_utime - cpu_before.ru_utime) / n * 1e6,
            "server_sys_us": (cpu_after.ru_stime - cpu_before.ru_stime) / n * 1e6,
            "server": kind, "connections": connections}


def w11_tcp_echo(loop, n):
    """W11: a Protocol echo server, 64 connections x one 64-byte message."""
    return _w11_echo(loop, n, 64, "protocol")


def w11_tcp_echo_streams(loop, n):
    """W11 with an asyncio streams echo server (read, write, drain)."""
    return _w11_echo(loop, n, 64, "streams")


def w11_tcp_echo_weft_streams(loop, n):
    """W11 with the same streams echo server on weft.streams."""
    return _w11_echo(loop, n, 64, "weft_streams")


def w11_tcp_echo_1conn(loop, n):
    """W11 with one connection: each 64-byte message goes out when the last
    one came back, so a round trip is the server's latency, wake-ups
    included (a request-response exchange, as a client awaiting each answer
    makes)."""
    return _w11_echo(loop, n, 64, "protocol", connections=1)


def w11_tcp_echo_16k(loop, n):
    """W11 with 16 KiB messages, Protocol server; mb_per_s."""
    return _w11_echo(loop, n, 16 << 10, "protocol")


def w11_tcp_echo_16k_streams(loop, n):
    """W11 with 16 KiB messages, streams server."""
    return _w11_echo(loop, n, 16 << 10, "streams")


def w11_tcp_echo_16k_weft_streams(loop, n):
    """W11 with 16 KiB messages, weft.streams server."""
    return _w11_echo(loop, n, 16 << 10, "weft_streams")


# The sender of W11's bulk receive, in its own process: N MiB to the port
# (over TLS if asked, without verification: the receiver's certificate is
# made for the run), in sends of 1 MiB, then it waits for the receiver to
# close.
_BULK_SENDER = """
import socket, ssl, sys
port, mib, tls = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "tls"
chunk = bytes(range(256)) * 4096
with socket.create_connection(("127.0.0.1", port)) as s:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        s = context.wrap_socket(s, server_hostname="localhost")
    for _ in range(mib):
        s.sendall(chunk)
    s.recv(1)
    s.close()
"""


class _Counting:
    """W11 bulk receive's protocols count the bytes; once all came, they
    close the connection (the sender exits) and resolve `done` with the last
    byte."""

    def __init__(self, total, done):
        self.total, self.done, self.received = total, done, 0

    def connection_made(self, transport):
        self.transport = transport
        self.started = (perf_counter(), resource.getrusage(resource.RUSAGE_SELF))

    def finish(self, last):
        if not self.done.done():
            self.finished = (perf_counter(), resource.getrusage(resource.RUSAGE_SELF))
            self.transport.close()
            self.done.set_result(last)

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_exception(WorkloadFailed("lost after %d bytes: %r" % (self.received, exc)))


class _CountingProtocol(_Counting, asyncio.Protocol):
    def data_received(self, data):
        self.received += len(data)
        if self.received >= self.total:
            self.finish(data[-1])


class _CountingBufferedProtocol(_Counting, asyncio.BufferedProtocol):
    def __init__(self, total, done):
        super().__init__(total, done)
        self.buffer = bytearray(256 << 10)

    def get_buffer(self, sizehint):
        return self.buffer

    def buffer_updated(self, nbytes):
        self.received += nbytes
        if self.received >= self.total:
            self.finish(self.buffer[nbytes - 1])


def _receive_bulk(loop, mib, protocol_class, ssl_context=None):
    """One connection streams `mib` MiB into the loop's protocol (another
    process sends, 1 MiB per sendall; over TLS with `ssl_context`); MB/s and
    the receiving process's CPU per MiB, from the connection's start to its
    last byte."""
    total = mib << 20
    done = loop.create_future()
    protocols = []

    def factory():
        protocols.append(protocol_class(total, done))
        return protocols[-1]

    server = loop.run_until_complete(
        loop.create_server(factory, "127.0.0.1", 0, ssl=ssl_context))
    port = server.sockets[0].getsockname()[1]
    sender = subprocess.Popen([sys.executable, "-c", _BULK_SENDER, str(port), str(mib),
                               "tcp" if ssl_context is None else "tls"])
    try:
        last = loop.run_until_complete(asyncio.wait_for(done, 300))
    finally:
        for protocol in protocols:  # already closed unless the run failed
            if getattr(protocol, "transport", None) is not None:
                protocol.transport.close()
        server.close()
        loop.run_until_complete(server.wait_closed())
        try:
            sender.wait(30)
        except subprocess.TimeoutExpired:
            sender.kill()
            sender.wait()
    if last != 255:  # the stream's last byte (1 MiB of bytes 0..255 repeated)
        raise WorkloadFailed("last byte %d, not 255" % last)
    (start, cpu_before), (end, cpu_after) = protocols[0].started, protocols[0].finished
    seconds = end - start
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {"seconds": seconds, "ops": mib, "mb_per_s": total / seconds / 1e6,
            "server_cpu_us_per_mib": cpu / mib * 1e6}


def w11_tcp_receive_bulk(loop, n):
    """n MiB over one connection into a Protocol (data_received)."""
    return _receive_bulk(loop, n, _CountingProtocol)


def w11_tcp_receive_bulk_buffered(loop, n):
    """n MiB over one connection into a BufferedProtocol (get_buffer /
    buffer_updated, a 256 KiB buffer)."""
    return _receive_bulk(loop, n, _CountingBufferedProtocol)


def _exchange_small_messages(loop, count=200, size=10 << 10):
    """A server's earlier work: `count` echoes of `size`-byte messages over
    another connection (weft's loop then holds read buffers of `size` bytes
    in its pool)."""
    async def run():
        server = await loop.create_server(_EchoProtocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        message = bytes(size)
        for _ in range(count):
            writer.write(message)
            if await reader.readexactly(size) != message:
                raise WorkloadFailed("the echo changed a message")
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
    loop.run_until_complete(asyncio.wait_for(run(), 60))


def w11_tcp_receive_bulk_after_echo(loop, n):
    """n MiB over one connection into a Protocol, after the loop echoed 200
    messages of 10 KiB on another (untimed): a stream must not keep reading
    in the pieces its small messages left."""
    _exchange_small_messages(loop)
    return _receive_bulk(loop, n, _CountingProtocol)


def w11_tls_receive_bulk(loop, n):
    """n MiB over one TLS connection (asyncio's TLS over the loop's
    transport, a certificate made for the run with openssl) into a
    Protocol."""
    import ssl
    import tempfile
    with tempfile.TemporaryDirectory() as directory:
        cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    return _receive_bulk(loop, n, _CountingProtocol, context)


# name -> (function, N)
WORKLOADS = {
    "W1_callbacks_chain": (w1_callbacks_chain, 1_000_000),
    "W2_callbacks_burst": (w2_callbacks_burst, 1_000_000),
    "W3_timers_churn": (w3_timers_churn, 1_000_000),
    "W4_timers_fire": (w4_timers_fire, 200_000),
    "W5_futures": (w5_futures, 1_000_000),
    "W6_tasks": (w6_tasks, 1_000_000),
    "W7_tasks_memory": (w7_tasks_memory, 100_000),
    "W9_offload": (w9_offload, 100_000),
    "W10_threadsafe_pingpong": (w10_threadsafe_pingpong, 100_000),
    "W11_tcp_echo": (w11_tcp_echo, 200_000),
    "W11_tcp_echo_streams": (w11_tcp_echo_streams, 200_000),
    "W11_tcp_echo_weft_streams": (w11_tcp_echo_weft_streams, 200_000),
    "W11_tcp_echo_1conn": (w11_tcp_echo_1conn, 20_000),
    "W11_tcp_echo_16k": (w11_tcp_echo_16k, 50_000),
    "W11_tcp_echo_16k_streams": (w11_tcp_echo_16k_streams, 50_000),
    "W11_tcp_echo_16k_weft_streams": (w11_tcp_echo_16k_weft_streams, 50_000),
    "W11_tcp_receive_bulk": (w11_tcp_receive_bulk, 4096),
    "W11_tcp_receive_bulk_buffered": (w11_tcp_receive_bulk_buffered, 4096),
    "W11_tcp_receive_bulk_after_echo": (w11_tcp_receive_bulk_after_echo, 4096),
    "W11_tls_receive_bulk": (w11_tls_receive_bulk, 1024),
}
