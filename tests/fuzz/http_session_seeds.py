"""Writes the seed inputs of the HTTP session fuzz target
(http_session_fuzz_target.cc) into http_session_corpus/, each named by the
SHA-1 of its bytes as libFuzzer names its own:

    /usr/bin/python3 tests/fuzz/http_session_seeds.py

Each input is a flags byte (bit 0: time out after the bytes, bit 1: the
server drains), a piece-size byte (pieces of byte + 1), then what a client
sends: ordinary requests, pipelines, chunked bodies, 100-continue, HEAD,
HTTP/1.0, and each kind of bad input.
"""
import hashlib
import os

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
ECHO = b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
CHUNKED = (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n5;ext=1\r\ndefgh\r\n0\r\nTrailer: x\r\n\r\n")
SEEDS = [
    (0, 255, GET),
    (0, 0, GET + ECHO + b"GET /chunked HTTP/1.1\r\n\r\n"),
    (0, 6, CHUNKED + GET),
    (0, 40, b"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nxyz"),
    (0, 255, b"HEAD / HTTP/1.1\r\n\r\nHEAD /chunked HTTP/1.1\r\n\r\nHEAD /nowhere HTTP/1.1\r\n\r\n"),
    (0, 255, b"GET /chunked HTTP/1.0\r\n\r\n"),
    (0, 255, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + GET),
    (0, 255, b"DELETE /echo HTTP/1.1\r\n\r\nGET /echo?x=1 HTTP/1.1\r\n\r\n"),
    (0, 255, GET + b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n" + GET),
    (0, 255, b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nrest"),
    (0, 255, b"CONNECT a:443 HTTP/1.1\r\n\r\n"),
    (0, 255, b"NOT HTTP\r\n\r\n"),
    (0, 255, b"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"),
    (0, 255, b"POST /echo HTTP/1.1\r\nContent-Length: 99999\r\n\r\n"),
    (0, 10, b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n" + b"z" * 4097),
    (0, 255, b"GET /" + b"p" * 600 + b" HTTP/1.1\r\n\r\n"),
    (0, 255, b"GET / HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(9)) + b"\r\n"),
    (1, 255, b"GET / HTTP/1.1\r\nHost"),
    (1, 255, GET),
    (2, 255, GET + GET),
    (3, 3, b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345"),
    (0, 255, b"POST /echo HTTP/1.1\r\nContent-Type: a/b\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"1\r\nx\r\n0\r\n" + b"".join(b"T%d: %s\r\n" % (i, b"v" * 100) for i in range(3)) + b"\r\n"),
]


def main():
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_session_corpus")
    os.makedirs(corpus, exist_ok=True)
    for flags, piece, payload in SEEDS:
        data = bytes([flags, piece]) + payload
        with open(os.path.join(corpus, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), corpus))


if __name__ == "__main__":
    main()
