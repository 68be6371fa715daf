"""HTTPS tests of weft's example servers (--tls-cert/--tls-key; the C++ one
and the C one), run with Debian's /usr/bin/python3:

    /usr/bin/python3 http_server_tls_test.py PATH_TO_SERVER

The certificate (for 127.0.0.1 and localhost) is made at test time by the
openssl command in a temporary directory. Each test starts the server on
127.0.0.1 with --port 0 and stops it (SIGKILL if SIGTERM did not end it).
"""
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_server_test as plain  # noqa: E402  (Server, request helpers)

IO_TIMEOUT = plain.IO_TIMEOUT


class TlsServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="weft-https-")
        cls.cert = os.path.join(cls.dir, "cert.pem")
        cls.key = os.path.join(cls.dir, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", cls.key, "-out", cls.cert],
            check=True, capture_output=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.server = plain.Server("--tls-cert", self.cert, "--tls-key", self.key)

    def tearDown(self):
        self.server.kill()

    def trusting_context(self):
        context = ssl.create_default_context(cafile=self.cert)
        context.set_alpn_protocols(["http/1.1"])
        return context

    def test_requests_on_one_kept_alive_tls_connection(self):
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.server.port, timeout=IO_TIMEOUT, context=self.trusting_context())
        try:
            for _ in range(3):
                connection.request("GET", "/")
                response = connection.getresponse()
                self.assertEqual((response.status, response.read()), (200, b"hello"))
            body = os.urandom(40000)
            connection.request("POST", "/echo", body=body)
            response = connection.getresponse()
            self.assertEqual((response.status, response.read()), (200, body))
            connection.request("GET", "/chunked")
            response = connection.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.getheader("Transfer-Encoding"), "chunked")
            self.assertTrue(response.read())
            tls = connection.sock
            self.assertEqual(tls.selected_alpn_protocol(), "http/1.1")
            self.assertTrue(tls.version().startswith("TLSv1."))
        finally:
            connection.close()
        code, output = self.server.stop()
        self.assertEqual(code, 0, output)

    def test_plain_text_and_untrusted_clients_fail_alone(self):
        # Plain HTTP to the TLS port: the handshake fails, the connection ends.
        sock = self.server.connect()
        sock.sendall(plain.request("GET", "/"))
        reply = b""
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except ConnectionResetError:
            pass
        sock.close()
        self.assertNotIn(b"200", reply)
        # A client that does not trust the certificate refuses it.
        with self.assertRaises(ssl.SSLCertVerificationError):
            untrusted = http.client.HTTPSConnection(
                "127.0.0.1", self.server.port, timeout=IO_TIMEOUT,
                context=ssl.create_default_context())
            try:
                untrusted.request("GET", "/")
            finally:
                untrusted.close()
        # The server goes on serving.
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.server.port, timeout=IO_TIMEOUT, context=self.trusting_context())
        connection.request("GET", "/")
        self.assertEqual(connection.getresponse().read(), b"hello")
        connection.close()
        code, output = self.server.stop(signal.SIGINT)
        self.assertEqual(code, 0, output)

    def test_a_client_that_never_completes_the_handshake_is_dropped(self):
        sock = self.server.connect()  # sends nothing: the idle time-out ends it
        self.assertTrue(plain.at_eof(sock))
        sock.close()
        code, output = self.server.stop()
        self.assertEqual(code, 0, output)

    @unittest.skipIf(shutil.which("curl") is None, "curl is not installed")
    def test_curl(self):
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "--cacert", self.cert,
             "https://127.0.0.1:%d/" % self.server.port],
            capture_output=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, b"hello")


class TlsArgumentsTest(unittest.TestCase):
    def test_bad_tls_arguments(self):
        server = plain.SERVER
        result = subprocess.run([server, "--port", "0", "--tls-cert", "/nonexistent.pem"],
                                capture_output=True, timeout=10)
        self.assertEqual(result.returncode, 2)  # a certificate without its key
        result = subprocess.run([server, "--port", "0", "--tls-cert", "/nonexistent.pem",
                                 "--tls-key", "/nonexistent.pem"],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 1)
        self.assertIn("TLS", result.stderr)


if __name__ == "__main__":
    plain.SERVER = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
