"""A self-signed certificate for localhost made with openssl at test time,
for the TLS tests (raw weft.capi and the loop's transports)."""
import os
import subprocess
import tempfile
from contextlib import contextmanager


@contextmanager
def localhost_certificate():
    """Yields (certificate path, key path) of a self-signed certificate for
    localhost (CN and subjectAltName), valid one day; removed afterwards."""
    with tempfile.TemporaryDirectory() as directory:
        cert = os.path.join(directory, "cert.pem")
        key = os.path.join(directory, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=60)
        yield cert, key
