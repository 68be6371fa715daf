"""Tests of weft's example HTTP/1.1 servers (the C++ one and the C one take
the same options and must answer alike), run with Debian's /usr/bin/python3:

    /usr/bin/python3 http_server_test.py PATH_TO_SERVER

Each test talks to a server started on 127.0.0.1 with --port 0 (it prints
the port it got) through raw sockets, Python's http.client, curl and wrk.
Every socket operation has a time-out, and every server is stopped (SIGKILL
if SIGTERM did not end it) when its test ends.
"""
import http.client
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

SERVER = None  # the binary under test, from argv

IDLE_TIMEOUT_MS = 600
MAX_HEADER_BYTES = 2048
MAX_BODY_BYTES = 65536
IO_TIMEOUT = 10  # seconds, for any one socket operation


class Server:
    """A server process on a kernel-chosen port."""

    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [SERVER, "--port", "0", "--idle-timeout-ms", str(IDLE_TIMEOUT_MS),
             "--max-header-bytes", str(MAX_HEADER_BYTES),
             "--max-body-bytes", str(MAX_BODY_BYTES), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        match = re.match(r"http server listening on 127\.0\.0\.1:(\d+)$", line.strip())
        if not match:
            self.proc.kill()
            raise AssertionError("the server did not say where it listens: %r" % line)
        self.port = int(match.group(1))

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT)
        sock.settimeout(IO_TIMEOUT)
        return sock

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the server; returns (exit status, the rest of its output)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            output, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            output, _ = self.proc.communicate()
            raise AssertionError("the server did not stop within %s s" % timeout)
        return self.proc.returncode, output

    def wait(self, timeout=10):
        """Waits for the server to exit by itself: (exit status, output)."""
        try:
            output, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("the server did not exit within %s s" % timeout)
        return self.proc.returncode, output

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


class _Reader(io.BufferedReader):
    """The socket's read side for http.client, which closes its file after
    each response: here one file serves several pipelined responses."""

    def close(self):
        pass


class _SockShim:
    def __init__(self, reader):
        self.reader = reader

    def makefile(self, *args, **kwargs):
        return self.reader


def response_reader(sock):
    return _Reader(socket.SocketIO(sock, "rb"))


def read_response(reader, method="GET"):
    """The next response on the connection, parsed by http.client:
    (status, headers, body)."""
    response = http.client.HTTPResponse(_SockShim(reader), method=method)
    response.begin()
    body = response.read()
    return response.status, response.headers, body


def at_eof(sock, reader=None):
    """True if the server closed the connection (EOF, or a reset)."""
    try:
        data = reader.read1(1) if reader is not None else sock.recv(1)
    except ConnectionResetError:
        return True
    return data == b""


def request(method, target, body=None, headers=(), version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, target, version), "Host: 127.0.0.1"]
    lines += ["%s: %s" % h for h in headers]
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def chunked(*pieces):
    out = b""
    for piece in pieces:
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
    return out + b"0\r\n\r\n"


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.server = Server("--drain-timeout-ms", "2000")

    def tearDown(self):
        # Every test ends with a clean shutdown: exit status 0 (under the
        # sanitizers, also no leak and no error report).
        try:
            code, output = self.server.stop(timeout=10)
            self.assertEqual(code, 0, output)
        finally:
            self.server.kill()

    def assert_still_serving(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=IO_TIMEOUT)
        conn.request("GET", "/")
        response = conn.getresponse()
        self.assertEqual((response.status, response.read()), (200, b"hello"))
        conn.close()

    def assert_error_then_closed(self, payload, status):
        sock = self.server.connect()
        sock.sendall(payload)
        reader = response_reader(sock)
        got, headers, _ = read_response(reader)
        self.assertEqual(got, status)
        self.assertEqual(headers["Connection"], "close")
        self.assertTrue(at_eof(sock, reader), "the connection stayed open after %d" % status)
        sock.close()
        self.assert_still_serving()

    # --- http.client and keep-alive ----------------------------------------

    def test_hello_with_http_client_keeps_the_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=IO_TIMEOUT)
        conn.request("GET", "/")
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.read(), b"hello")
        self.assertEqual(response.getheader("Content-Length"), "5")
        self.assertIsNotNone(response.getheader("Date"))
        first_socket = conn.sock
        for i in range(20):
            body = b"message %d" % i
            conn.request("POST", "/echo", body=body, headers={"Content-Type": "text/plain"})
            response = conn.getresponse()
            self.assertEqual((response.status, response.read()), (200, body))
            self.assertEqual(response.getheader("Content-Type"), "text/plain")
        self.assertIs(conn.sock, first_socket, "keep-alive: http.client had to reconnect")
        conn.close()

    def test_chunked_response(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=IO_TIMEOUT)
        conn.request("GET", "/chunked")
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Transfer-Encoding"), "chunked")
        self.assertIsNone(response.getheader("Content-Length"))
        self.assertEqual(response.read(), b"weft sends this in chunks\n")
        conn.close()

    def test_head_404_405(self):
        sock = self.server.connect()
        sock.sendall(request("HEAD", "/") + request("GET", "/nowhere") + request("GET", "/echo")
                     + request("DELETE", "/"))
        reader = response_reader(sock)
        status, headers, body = read_response(reader, method="HEAD")
        self.assertEqual((status, headers["Content-Length"], body), (200, "5", b""))
        self.assertEqual(read_response(reader)[0], 404)
        status, headers, _ = read_response(reader)
        self.assertEqual((status, headers["Allow"]), (405, "POST"))
        self.assertEqual(read_response(reader)[0], 405)
        sock.close()

    def test_http10(self):
        sock = self.server.connect()
        sock.sendall(request("GET", "/chunked", version="HTTP/1.0"))
        reader = response_reader(sock)
        status, headers, body = read_response(reader)
        self.assertEqual((status, body), (200, b"weft sends this in chunks\n"))
        self.assertIsNone(headers["Transfer-Encoding"])
        self.assertEqual(headers["Connection"], "close")
        self.assertTrue(at_eof(sock, reader))
        sock.close()
        # HTTP/1.0 with keep-alive asked for.
        sock = self.server.connect()
        reader = response_reader(sock)
        for _ in range(2):
            sock.sendall(request("GET", "/", version="HTTP/1.0", headers=[("Connection", "keep-alive")]))
            status, headers, body = read_response(reader)
            self.assertEqual((status, body, headers["Connection"]), (200, b"hello", "keep-alive"))
        sock.close()

    # --- pipelining and bodies ---------------------------------------------

    def test_pipelining_in_one_write(self):
        sock = self.server.connect()
        payload = (request("GET", "/") + request("POST", "/echo", b"first body")
                   + request("GET", "/chunked")
                   + request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")])
                   + chunked(b"chunked ", b"body")
                   + request("GET", "/", headers=[("Connection", "close")])
                   + request("GET", "/never-answered"))
        sock.sendall(payload)
        reader = response_reader(sock)
        answers = [read_response(reader) for _ in range(5)]
        self.assertEqual([a[0] for a in answers], [200] * 5)
        self.assertEqual([a[2] for a in answers],
                         [b"hello", b"first body", b"weft sends this in chunks\n",
                          b"chunked body", b"hello"])
        self.assertEqual(answers[4][1]["Connection"], "close")
        self.assertTrue(at_eof(sock, reader), "answered after Connection: close")
        sock.close()

    def test_pipelining_byte_by_byte(self):
        sock = self.server.connect()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = request("POST", "/echo", b"abc") + request("GET", "/")
        for i in range(len(payload)):
            sock.send(payload[i:i + 1])
        reader = response_reader(sock)
        self.assertEqual(read_response(reader)[2], b"abc")
        self.assertEqual(read_response(reader)[2], b"hello")
        sock.close()

    def test_chunked_request_body_in_pieces(self):
        sock = self.server.connect()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")]))
        body = chunked(b"x" * 1000, b"y" * 3000, b"z")
        for start in range(0, len(body), 700):
            sock.sendall(body[start:start + 700])
            time.sleep(0.01)
        status, _, echoed = read_response(response_reader(sock))
        self.assertEqual((status, echoed), (200, b"x" * 1000 + b"y" * 3000 + b"z"))
        sock.close()

    def test_chunked_body_with_trailers(self):
        sock = self.server.connect()
        trailers = b"".join(b"X-Trailer-%d: %s\r\n" % (i, b"t" * 100) for i in range(5))
        sock.sendall(request("POST", "/echo", headers=[("Transfer-Encoding", "chunked"),
                                                      ("Content-Type", "text/x-test")])
                     + b"4;name=value\r\nbody\r\n0\r\n" + trailers + b"\r\n" + request("GET", "/"))
        reader = response_reader(sock)
        status, headers, body = read_response(reader)
        self.assertEqual((status, body, headers["Content-Type"]), (200, b"body", "text/x-test"))
        self.assertEqual(read_response(reader)[2], b"hello")
        sock.close()

    def test_expect_100_continue(self):
        sock = self.server.connect()
        body = b"q" * 5000
        sock.sendall(request("POST", "/echo", headers=[("Expect", "100-continue")])[:-2]
                     + b"Content-Length: %d\r\n\r\n" % len(body))
        reader = response_reader(sock)
        self.assertEqual(reader.readline(), b"HTTP/1.1 100 Continue\r\n")
        self.assertEqual(reader.readline(), b"\r\n")
        sock.sendall(body)
        self.assertEqual(read_response(reader)[:3:2], (200, body))
        sock.close()

    def test_body_at_the_limit(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=IO_TIMEOUT)
        body = bytes(range(256)) * (MAX_BODY_BYTES // 256)
        conn.request("POST", "/echo", body=body)
        response = conn.getresponse()
        self.assertEqual((response.status, response.read()), (200, body))
        conn.close()

    # --- bad input -----------------------------------------------------------

    def test_400_malformed(self):
        self.assert_error_then_closed(b"NOT HTTP AT ALL\r\n\r\n", 400)
        self.assert_error_then_closed(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400)
        self.assert_error_then_closed(
            request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")]) + b"zz\r\n", 400)
        # A bad request after a good one on the same connection.
        sock = self.server.connect()
        sock.sendall(request("GET", "/") + b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")
        reader = response_reader(sock)
        self.assertEqual(read_response(reader)[0], 200)
        self.assertEqual(read_response(reader)[0], 400)
        self.assertTrue(at_eof(sock, reader))
        sock.close()

    def test_413_body_too_large(self):
        # Known from Content-Length: refused before the body is sent.
        self.assert_error_then_closed(
            request("POST", "/echo")[:-2] + b"Content-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1), 413)
        # Sent anyway: the server lingers, so the client still reads the 413.
        sock = self.server.connect()
        body = b"b" * (MAX_BODY_BYTES * 2)
        sock.sendall(request("POST", "/echo", body))
        reader = response_reader(sock)
        self.assertEqual(read_response(reader)[0], 413)
        self.assertTrue(at_eof(sock, reader))
        sock.close()
        # Chunked: found out while reading it.
        big = b"c" * 4096
        self.assert_error_then_closed(
            request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")])
            + chunked(*([big] * (MAX_BODY_BYTES // len(big) + 1))), 413)

    def test_431_headers_too_large(self):
        self.assert_error_then_closed(request("GET", "/", headers=[("X-Big", "v" * MAX_HEADER_BYTES)]), 431)
        self.assert_error_then_closed(request("GET", "/" + "p" * MAX_HEADER_BYTES), 431)
        self.assert_error_then_closed(
            request("GET", "/", headers=[("X-%d" % i, "1") for i in range(100)]), 431)

    def test_408_idle_and_slow(self):
        # Idle keep-alive connection after a request.
        sock = self.server.connect()
        sock.sendall(request("GET", "/"))
        reader = response_reader(sock)
        self.assertEqual(read_response(reader)[0], 200)
        started = time.monotonic()
        status, headers, _ = read_response(reader)
        waited = time.monotonic() - started
        self.assertEqual((status, headers["Connection"]), (408, "close"))
        self.assertGreaterEqual(waited, IDLE_TIMEOUT_MS / 1000 * 0.9)
        self.assertTrue(at_eof(sock, reader))
        sock.close()
        # A request that trickles in: the whole of it must arrive in time.
        sock = self.server.connect()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        deadline = started + 5
        closed = False
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.1)
            sock.settimeout(0.001)
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except socket.timeout:
                pass
            finally:
                sock.settimeout(IO_TIMEOUT)
        if not closed:
            status, _, _ = read_response(response_reader(sock))
            self.assertEqual(status, 408)
        self.assertLess(time.monotonic() - started, 3)
        sock.close()
        self.assert_still_serving()

    def test_others_served_while_one_is_slow(self):
        slow = self.server.connect()
        slow.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345")
        self.assert_still_serving()
        slow.sendall(b"67890")
        self.assertEqual(read_response(response_reader(slow))[2], b"1234567890")
        slow.close()

    def test_reset_by_client_mid_request(self):
        for _ in range(5):
            sock = self.server.connect()
            sock.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()  # an RST
        self.assert_still_serving()

    # --- real clients ---------------------------------------------------------

    @unittest.skipUnless(shutil.which("curl"), "curl is not installed")
    def test_curl(self):
        base = "http://127.0.0.1:%d" % self.server.port
        out = subprocess.run(["curl", "-sS", "--max-time", "10", base + "/", base + "/chunked"],
                             capture_output=True, timeout=20, check=True).stdout
        self.assertEqual(out, b"hello" + b"weft sends this in chunks\n")
        body = os.urandom(30000)
        out = subprocess.run(["curl", "-sS", "--max-time", "10", "--data-binary", "@-",
                              "-H", "Content-Type: application/octet-stream", base + "/echo"],
                             input=body, capture_output=True, timeout=20, check=True).stdout
        self.assertEqual(out, body)
        # A chunked upload (curl sends Expect: 100-continue for it).
        out = subprocess.run(["curl", "-sS", "--max-time", "10", "--data-binary", "@-",
                              "-H", "Transfer-Encoding: chunked", base + "/echo"],
                             input=body, capture_output=True, timeout=20, check=True).stdout
        self.assertEqual(out, body)
        status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                 "--max-time", "10", "--data-binary", "@-", base + "/echo"],
                                input=b"x" * (MAX_BODY_BYTES + 1), capture_output=True,
                                timeout=20).stdout
        self.assertEqual(status, b"413")

    @unittest.skipUnless(shutil.which("wrk"), "wrk is not installed")
    def test_wrk_smoke(self):
        result = subprocess.run(["wrk", "-t1", "-c8", "-d1s", "http://127.0.0.1:%d/" % self.server.port],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        match = re.search(r"(\d+) requests in", result.stdout)
        self.assertIsNotNone(match, result.stdout)
        self.assertGreater(int(match.group(1)), 0, result.stdout)
        self.assertNotIn("Socket errors", result.stdout)
        self.assertNotIn("Non-2xx", result.stdout)


def start_in_flight_request(sock, reader):
    """Sends the head and half the body of a 10-byte echo request, and
    waits until the server has read the head (it answers 100 Continue)."""
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                 b"Content-Length: 10\r\n\r\n")
    assert reader.readline() == b"HTTP/1.1 100 Continue\r\n"
    assert reader.readline() == b"\r\n"
    sock.sendall(b"12345")


class ShutdownTest(unittest.TestCase):
    def test_graceful_shutdown_finishes_the_request_in_flight(self):
        server = Server("--drain-timeout-ms", "5000")
        try:
            idle = server.connect()
            idle.sendall(request("GET", "/"))
            idle_reader = response_reader(idle)
            self.assertEqual(read_response(idle_reader)[0], 200)
            busy = server.connect()
            reader = response_reader(busy)
            start_in_flight_request(busy, reader)
            server.proc.send_signal(signal.SIGTERM)
            self.assertEqual(server.proc.stdout.readline().strip(), "shutting down (SIGTERM)")
            # The idle connection is closed at once, new ones are refused...
            self.assertTrue(at_eof(idle, idle_reader))
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", server.port), timeout=IO_TIMEOUT).close()
            self.assertIsNone(server.proc.poll(), "exited with a request in flight")
            # ...and the request in flight gets its answer, the last one.
            busy.sendall(b"67890")
            status, headers, body = read_response(reader)
            self.assertEqual((status, body, headers["Connection"]), (200, b"1234567890", "close"))
            self.assertTrue(at_eof(busy, reader))
            busy.close()
            idle.close()
            code, output = server.wait(timeout=10)
            self.assertEqual(code, 0, output)
        finally:
            server.kill()

    def test_shutdown_gives_up_on_a_stuck_request(self):
        server = Server("--drain-timeout-ms", "300")
        try:
            stuck = server.connect()
            reader = response_reader(stuck)
            start_in_flight_request(stuck, reader)
            started = time.monotonic()
            code, output = server.stop(signal.SIGINT, timeout=10)
            self.assertEqual(code, 0, output)
            self.assertIn("shutting down (SIGINT)", output)
            self.assertLess(time.monotonic() - started, 3)
            self.assertTrue(at_eof(stuck, reader))
            stuck.close()
        finally:
            server.kill()

    def test_shutdown_when_idle(self):
        server = Server()
        try:
            code, output = server.stop(timeout=10)
            self.assertEqual(code, 0, output)
        finally:
            server.kill()

    def test_bad_arguments(self):
        for args in (["--port", "70000"], ["--port"], ["--idle-timeout-ms", "x"], ["--bogus", "1"]):
            result = subprocess.run([SERVER, *args], capture_output=True, timeout=10)
            self.assertEqual(result.returncode, 2, args)
        result = subprocess.run([SERVER, "--host", "not-an-address", "--port", "0"],
                                capture_output=True, timeout=10)
        self.assertEqual(result.returncode, 1)


if __name__ == "__main__":
    SERVER = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
