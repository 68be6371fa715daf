# Seeds for the TLS handshake fuzz target (tls_handshake_fuzz_target.cc),
# written into its corpus:
#   /usr/bin/python3 tests/fuzz/tls_seeds.py tests/fuzz/tls_corpus
# Real handshake messages made with Python's ssl module over memory BIOs (a
# throwaway self-signed certificate from the openssl command), so that the
# fuzzer starts from inputs that get deep into OpenSSL's parsing:
#   server-*: a ClientHello (and a TLS 1.2-only one) for weft's server;
#   client-*: a server's first flight for weft's client;
#   plain-*: plain text to either side.
import os
import ssl
import subprocess
import sys
import tempfile


def chunks(side, data, size=200):
    out = bytes([side])
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += bytes([len(piece)]) + piece
    return out


def client_hello(max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    if max_version:
        ctx.maximum_version = max_version
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def server_flight(hello, directory):
    key, cert = os.path.join(directory, "k.pem"), os.path.join(directory, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(hello)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    seeds = {
        "server-client-hello": chunks(0, client_hello()),
        "server-client-hello-tls12": chunks(0, client_hello(ssl.TLSVersion.TLSv1_2)),
        "plain-to-server": chunks(0, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        "plain-to-client": chunks(1, b"HTTP/1.1 400 Bad Request\r\n\r\n"),
    }
    with tempfile.TemporaryDirectory() as directory:
        seeds["client-server-flight"] = chunks(1, server_flight(client_hello(), directory))
    for name, data in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
