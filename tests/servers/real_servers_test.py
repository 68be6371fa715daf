"""Checks that real_servers.py starts each real server, that it answers, and that
it is gone (process and directory) after the context manager returns."""

import os
import subprocess
import sys
import tempfile
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import real_servers  # noqa: E402


def _exchange(port, request):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while not data.endswith(b"\r\n"):
            data += s.recv(4096)
        return data


def test_redis_answers_and_stops():
    with real_servers.redis_server() as redis:
        assert _exchange(redis.port, b"SET weft 42\r\n") == b"+OK\r\n"
        assert _exchange(redis.port, b"GET weft\r\n") == b"$2\r\n42\r\n"
        process, directory = redis.process, os.path.dirname(redis.unix_socket)
        assert os.path.exists(redis.unix_socket)
    assert process.poll() is not None
    assert not os.path.exists(directory)


def test_nginx_serves_the_docroot():
    with tempfile.TemporaryDirectory() as docroot:
        with open(os.path.join(docroot, "page.txt"), "wb") as f:
            f.write(b"x" * 100_000)
        with real_servers.nginx_server(docroot) as web:
            with urllib.request.urlopen(web.url + "/page.txt", timeout=10) as reply:
                assert reply.read() == b"x" * 100_000
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(web.url + "/missing", timeout=10)
            assert missing.value.code == 404
            process = web.process
        assert process.poll() is not None


def test_nginx_refuses_a_missing_docroot():
    with pytest.raises(real_servers.ServerError):
        with real_servers.nginx_server("/nonexistent/weft-docroot"):
            pass


def test_mariadb_accepts_the_test_user():
    with real_servers.mariadb_server() as db:
        result = subprocess.run(
            ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(db.port),
             "-u", db.user, f"-p{db.password}", db.database, "-N", "-e",
             "CREATE TABLE t (n INT); INSERT INTO t VALUES (6),(7); "
             "SELECT SUM(n) FROM t"],
            capture_output=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == b"13"
        process = db.process
    assert process.poll() is not None


def test_wrapper_exports_the_ports_and_returns_the_status():
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "real_servers.py")
    ok = subprocess.run(
        [sys.executable, script, "--redis", "--", "sh", "-c",
         'test -n "$WEFT_TEST_REDIS_PORT" && test -S "$WEFT_TEST_REDIS_SOCKET"'],
        timeout=60)
    assert ok.returncode == 0
    failing = subprocess.run([sys.executable, script, "--redis", "--", "false"],
                             timeout=60)
    assert failing.returncode == 1
