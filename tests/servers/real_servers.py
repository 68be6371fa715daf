#!/usr/bin/python3
"""Real servers from Debian's packages for weft's tests: redis-server, nginx, MariaDB.

Each server runs on 127.0.0.1 on a free port, with its configuration, data and
logs in a temporary directory of its own, and is stopped (and its directory
removed) when the test is done. Start-up is bounded in time; a server that does
not come up raises ServerError with the tail of its log.

Two ways to use it:

- from Python, as context managers:

      from real_servers import redis_server, nginx_server, mariadb_server
      with redis_server() as redis:          # redis.host, redis.port, redis.unix_socket
          ...
      with nginx_server(docroot) as web:     # web.port, web.url, web.tls_port
          ...
      with mariadb_server() as db:           # db.port, db.unix_socket, db.user,
          ...                                # db.password, db.database

- from any test (C++, C, Lua, shell) as a wrapper that starts the servers,
  exports where they are in the environment and runs a command:

      real_servers.py --redis --nginx DOCROOT [--nginx-tls CERT KEY] --mariadb -- CMD ARGS...

  exports WEFT_TEST_REDIS_PORT, WEFT_TEST_REDIS_SOCKET, WEFT_TEST_NGINX_PORT,
  WEFT_TEST_NGINX_TLS_PORT, WEFT_TEST_MYSQL_PORT, WEFT_TEST_MYSQL_SOCKET,
  WEFT_TEST_MYSQL_USER, WEFT_TEST_MYSQL_PASSWORD, WEFT_TEST_MYSQL_DATABASE for the
  servers asked for, and exits with the command's status.

Runs on the calling thread; the servers are child processes owned by the
context manager that started them.
"""

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class ServerError(RuntimeError):
    """A server could not be started (not installed, failed, or too slow)."""


class Server:
    """Where a started server listens; fields depend on the server."""

    def __init__(self, **fields):
        self.host = "127.0.0.1"
        self.__dict__.update(fields)

    def __repr__(self):
        return f"Server({self.__dict__!r})"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require(program):
    path = shutil.which(program) or (
        program if os.path.isabs(program) and os.access(program, os.X_OK) else None)
    if path is None:
        for prefix in ("/usr/sbin", "/usr/bin", "/sbin"):
            candidate = os.path.join(prefix, program)
            if os.access(candidate, os.X_OK):
                return candidate
        raise ServerError(f"{program} is not installed (bazel/setup.sh installs it)")
    return path


def _server_environment():
    """The caller's environment without a sanitizer runtime preloaded (tests run
    under ASan or TSan preload it into Python; the servers are not built with it)."""
    env = dict(os.environ)
    for name in ("LD_PRELOAD", "ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS",
                 "LSAN_OPTIONS"):
        env.pop(name, None)
    return env


def _log_tail(path, limit=2000):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-limit:].decode("utf-8", "replace")
    except OSError:
        return "(no log)"


def _wait_until(ready, process, what, log_path, timeout=START_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"{what} exited with status {process.returncode}:\n"
                              f"{_log_tail(log_path)}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise ServerError(f"{what} did not come up within {timeout:.0f} s:\n"
                      f"{_log_tail(log_path)}")


def _stop(process, what):
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_S)


def _tcp_exchange(port, request, expect, timeout=1.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while expect not in data:
            chunk = s.recv(4096)
            if not chunk:
                return False
            data += chunk
        return True


@contextlib.contextmanager
def _server_dir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def redis_server():
    """A redis-server with no persistence, on TCP and a Unix socket."""
    program = _require("redis-server")
    with _server_dir("weft-redis-") as directory:
        port = free_port()
        unix_socket = os.path.join(directory, "redis.sock")
        log_path = os.path.join(directory, "redis.log")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [program, "--port", str(port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", directory,
                 "--unixsocket", unix_socket, "--unixsocketperm", "700",
                 "--daemonize", "no", "--protected-mode", "no",
                 "--logfile", ""],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=_server_environment())
        try:
            _wait_until(lambda: _tcp_exchange(port, b"PING\r\n", b"+PONG"),
                        process, "redis-server", log_path)
            yield Server(port=port, unix_socket=unix_socket, process=process)
        finally:
            _stop(process, "redis-server")


NGINX_CONFIG = """\
{user}
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    types {{ text/html html; text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
{tls_listen}
        server_name localhost;
        root {docroot};
{tls_config}
        location / {{ }}
    }}
}}
"""


@contextlib.contextmanager
def nginx_server(docroot, tls_cert=None, tls_key=None):
    """nginx serving the files under docroot over HTTP (and HTTPS with a certificate)."""
    program = _require("nginx")
    docroot = os.path.abspath(docroot)
    if not os.path.isdir(docroot):
        raise ServerError(f"nginx: {docroot} is not a directory")
    with _server_dir("weft-nginx-") as directory:
        port = free_port()
        tls_port = None
        tls_listen = tls_config = ""
        if tls_cert is not None:
            tls_port = free_port()
            tls_listen = f"        listen 127.0.0.1:{tls_port} ssl;"
            tls_config = (f"        ssl_certificate {os.path.abspath(tls_cert)};\n"
                          f"        ssl_certificate_key {os.path.abspath(tls_key)};")
        config_path = os.path.join(directory, "nginx.conf")
        with open(config_path, "w") as f:
            # As root, nginx hands its temporary directories to "nobody", which a
            # sandbox without that user refuses; keep them the caller's.
            user = "user root root;" if os.geteuid() == 0 else ""
            f.write(NGINX_CONFIG.format(user=user, dir=directory, port=port, docroot=docroot,
                                        tls_listen=tls_listen, tls_config=tls_config))
        log_path = os.path.join(directory, "error.log")
        with open(os.path.join(directory, "stderr.log"), "wb") as log:
            process = subprocess.Popen(
                [program, "-p", directory, "-c", config_path, "-e", log_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=_server_environment())
        try:
            _wait_until(lambda: _tcp_exchange(
                port, b"HEAD / HTTP/1.0\r\n\r\n", b"HTTP/1.1"),
                process, "nginx", log_path)
            yield Server(port=port, tls_port=tls_port, docroot=docroot,
                         url=f"http://127.0.0.1:{port}", process=process)
        finally:
            _stop(process, "nginx")


@contextlib.contextmanager
def mariadb_server():
    """A throwaway MariaDB with a database and a user with a password on it."""
    install_db = _require("mariadb-install-db")
    server = _require("mariadbd")
    client = _require("mariadb")
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    with _server_dir("weft-mariadb-") as directory:
        datadir = os.path.join(directory, "data")
        log_path = os.path.join(directory, "mariadb.log")
        with open(log_path, "wb") as log:
            installed = subprocess.run(
                [install_db, "--no-defaults", f"--datadir={datadir}",
                 "--auth-root-authentication-method=socket", "--skip-test-db",
                 "--skip-name-resolve"] + as_root,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=_server_environment(),
                timeout=START_TIMEOUT_S * 4)
        if installed.returncode != 0:
            raise ServerError(f"mariadb-install-db failed:\n{_log_tail(log_path)}")
        port = free_port()
        unix_socket = os.path.join(directory, "mysqld.sock")
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [server, "--no-defaults", f"--datadir={datadir}",
                 f"--socket={unix_socket}", f"--port={port}",
                 "--bind-address=127.0.0.1", f"--pid-file={directory}/mysqld.pid",
                 "--skip-name-resolve", "--innodb-buffer-pool-size=16M",
                 "--skip-log-bin", f"--log-error={log_path}"] + as_root,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=_server_environment())
        try:
            _wait_until(lambda: os.path.exists(unix_socket) and _tcp_port_open(port),
                        process, "mariadbd", log_path, timeout=START_TIMEOUT_S * 2)
            user, password, database = "weft", "weft-test-password", "weft_test"
            setup = (f"CREATE DATABASE {database};"
                     f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';"
                     f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}';"
                     f"GRANT ALL ON {database}.* TO '{user}'@'127.0.0.1';"
                     f"GRANT ALL ON {database}.* TO '{user}'@'localhost';")
            created = subprocess.run(
                [client, "--no-defaults", f"--socket={unix_socket}", "-uroot",
                 "-e", setup], capture_output=True, timeout=START_TIMEOUT_S,
                env=_server_environment())
            if created.returncode != 0:
                raise ServerError("mariadb: creating the test user failed: "
                                  + created.stderr.decode("utf-8", "replace"))
            yield Server(port=port, unix_socket=unix_socket, user=user,
                         password=password, database=database, process=process)
        finally:
            _stop(process, "mariadbd")


def _tcp_port_open(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1.0):
        return True


def main(argv):
    parser = argparse.ArgumentParser(
        description="Start real servers on 127.0.0.1, run a command, stop them.")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--nginx", metavar="DOCROOT")
    parser.add_argument("--nginx-tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--mariadb", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run (put it after --)")
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        try:
            if args.redis:
                redis = stack.enter_context(redis_server())
                env["WEFT_TEST_REDIS_PORT"] = str(redis.port)
                env["WEFT_TEST_REDIS_SOCKET"] = redis.unix_socket
            if args.nginx:
                cert, key = args.nginx_tls or (None, None)
                web = stack.enter_context(nginx_server(args.nginx, cert, key))
                env["WEFT_TEST_NGINX_PORT"] = str(web.port)
                if web.tls_port is not None:
                    env["WEFT_TEST_NGINX_TLS_PORT"] = str(web.tls_port)
            if args.mariadb:
                db = stack.enter_context(mariadb_server())
                env["WEFT_TEST_MYSQL_PORT"] = str(db.port)
                env["WEFT_TEST_MYSQL_SOCKET"] = db.unix_socket
                env["WEFT_TEST_MYSQL_USER"] = db.user
                env["WEFT_TEST_MYSQL_PASSWORD"] = db.password
                env["WEFT_TEST_MYSQL_DATABASE"] = db.database
        except ServerError as error:
            print(f"real_servers: {error}", file=sys.stderr)
            return 2
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
