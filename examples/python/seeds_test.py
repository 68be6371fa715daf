"""Runs the network examples of this directory on weft's loop, as a user runs
them (`bazel run //examples/python:<name>`: with_servers.sh starts the real
servers an example needs, with_weft.sh makes the package importable), and
checks what each printed. Each example asserts that its loop is a weft.Loop
and prints the loop's module first; every test checks that line.

Each example runs in its own process, bounded in time; the servers are
started and stopped by with_servers.sh for that run. BUILD.bazel makes one
test target per function here.
"""
import re
import subprocess
import sys

import pytest

EXAMPLES = "examples/python"
TIMEOUT_S = 240


def run(example, *servers, args=()):
    """Runs EXAMPLES/example.py (with `args`) with the given servers; returns its
    stdout lines after checking that it succeeded quietly on weft's loop."""
    if servers:
        command = [f"{EXAMPLES}/with_servers.sh", *servers, "--", f"{EXAMPLES}/{example}.py",
                   *args]
    else:
        command = ["bindings/python/with_weft.sh", sys.executable, f"{EXAMPLES}/{example}.py",
                   *args]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "", done.stderr  # no warning, no "never awaited", no traceback
    lines = done.stdout.splitlines()
    assert lines[0] == "loop: weft.loop", lines
    return lines[1:]


def crawl_lines(server_name):
    return [f"aiohttp from {server_name}: 50 files, 10085175 bytes, all whole; "
            f"at most 10 at a time",
            f"urllib in the executor from {server_name}: 50 files, 10085175 bytes, all whole; "
            f"at most 10 at a time"]


def test_seed_crawler():
    assert run("seed_crawler", "--nginx") == crawl_lines("nginx") + crawl_lines("nginx over TLS")


def test_seed_aiohttp_server():
    assert run("seed_aiohttp_server") == crawl_lines("aiohttp.web") + [
        "the server served 100 files, 20170350 bytes: as fetched: True",
        "server stopped",
    ]


# uvicorn's two HTTP parsers over weft's transports: httptools (what uvicorn
# takes when it is installed, as bazel/setup.sh does) and h11 (pure Python).
@pytest.mark.parametrize("http,protocol", [("auto", "HttpToolsProtocol"),
                                           ("h11", "H11Protocol")])
def test_seed_fastapi(http, protocol):
    assert run("seed_fastapi", "--redis", args=["--http", http]) == [
        "uvicorn's HTTP protocol: " + protocol,
        "GET / -> 200 {'message': 'hello', 'in_worker_thread': True}",
        "20 concurrent GET /visit/ada -> {200}, visits 1..20 once each: True, "
        "handled on weft's loop: True",
        "urllib GET /visit/grace -> 200 {'name': 'grace', 'visits': 1, 'weft_loop': True}",
        "urllib GET /no-such-route -> 404",
        "urllib GET /visit/ada?delay_ms=soon -> 422 ['query', 'delay_ms']",
        "uvicorn stopped",
    ]


def test_seed_aioredis():
    lines = run("seed_aioredis", "--redis")
    assert lines[0] == "hgetall: {'lang': 'en', 'name': 'Ada', 'year': '1815'}"
    pool = re.fullmatch(r"pool: 100 concurrent INCRs gave 1\.\.100 once each: True; "
                        r"connections used: (\d+) \(at most 10\)", lines[1])
    assert pool and 1 <= int(pool.group(1)) <= 10, lines[1]
    assert lines[2:] == [
        "multi_exec: [True, 42, '42']",
        "pipeline: 11 replies, the list: 0 1 2 3 4 5 6 7 8 9",
        "pub/sub: receivers [1, 1, 1], channel got ['item 0', 'item 1', 'item 2'], "
        "pattern got 'ada' on weft:seed:aioredis:events.login",
        "unix socket: hget: Ada",
        "keys deleted: 4",
    ]


def test_seed_redis_asyncio():
    lines = run("seed_redis_asyncio", "--redis")
    assert lines[:2] == ["ping: True", "hgetall: {'name': 'Grace', 'year': '1906'}"]
    pool = re.fullmatch(r"100 concurrent INCRs gave 1\.\.100 once each: True; "
                        r"the server saw (\d+) pooled connections \(at most 10\)", lines[2])
    assert pool and 1 <= int(pool.group(1)) <= 10, lines[2]
    assert lines[3:] == [
        "transaction: [True, 42, '42']",
        "pipeline: 11 replies, the list: 0 1 2 3 4 5 6 7 8 9",
        "watch: 2 attempts (the retry saw 105), balances ['75', '30']",
        "pub/sub: receivers [1, 1, 1, 1]",
        "  message on news: item 0",
        "  message on news: item 1",
        "  message on news: item 2",
        "  pmessage on events.login: grace",
        "unix socket: hget: Grace",
        "keys deleted: 6",
    ]


def test_seed_aiomysql():
    lines = run("seed_aiomysql", "--mariadb")
    pool = re.fullmatch(r"20 concurrent queries: all answers right: True; at most (\d+) "
                        r"connections at once on (\d+) server connections "
                        r"\(the pool's limit: 10\)", lines[0])
    assert pool, lines[0]
    # 20 queries of 50 ms each overlap: more than one connection, never over the limit.
    assert 2 <= int(pool.group(1)) <= 10 and 2 <= int(pool.group(2)) <= 10, lines[0]
    assert lines[1:] == [
        "after DELETE and rollback: 8 rows",
        "a bad query raises OperationalError 1054",
        "the connection still works: ['Lisbon', 'Porto', 'Braga']",
        "unix socket: 8 rows, the server is MariaDB: True",
        "pool closed",
    ]


def test_echo_streams():
    assert run("echo_streams") == [
        "20 clients at once: 1000 lines echoed",
        "1 MiB in one line: 1048577 bytes back, the same: True",
        "server closed: True",
    ]


def test_echo_udp():
    lines = run("echo_udp")
    assert re.fullmatch(r"100 datagrams echoed, each unchanged: True \(sent again: \d+\)",
                        lines[0]), lines[0]
    assert lines[1:] == [
        "one datagram of 60000 bytes echoed whole: True",
        "client socket is a TransportSocket: True",
    ]


def test_echo_unix():
    assert run("echo_unix") == [
        "10 clients at once: each got its 65536 bytes back: True; "
        "connected to the socket's path: True",
        "server closed: True",
    ]


def test_echo_tls():
    assert run("echo_tls") == [
        "5 TLS clients at once: all echoes whole: True; server certificate for ['localhost']; "
        "versions ['TLSv1.3']",
        "a client without the certificate: self-signed certificate",
        "a client expecting another name: Hostname mismatch, certificate is not valid for "
        "'example.org'.",
        "server closed: True",
    ]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
