"""Writes the seed inputs of the HTTP response fuzz target
(http_response_fuzz_target.cc) into http_response_corpus/, each named by the
SHA-1 of its bytes as libFuzzer names its own:

    /usr/bin/python3 tests/fuzz/http_response_seeds.py

Each input is a body-limit byte (limit = byte * 4, 255: the default), a
piece-size byte, then what a server sends: Content-Length, chunked and
read-until-close bodies, a response followed by another, 1xx, 204/304,
bodies over the limit, a cut-off response, and bad input.
"""
import hashlib
import os

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n5;ext=1\r\ndefgh\r\n0\r\nTrailer: x\r\n\r\n")
SEEDS = [
    (255, 0, OK),
    (255, 3, OK + OK),
    (255, 7, CHUNKED),
    (255, 0, b"HTTP/1.0 200 OK\r\n\r\nuntil the connection closes"),
    (255, 1, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody"),
    (255, 0, b"HTTP/1.1 100 Continue\r\n\r\n" + OK),
    (255, 0, b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"),
    (255, 0, b"HTTP/1.1 304 Not Modified\r\n\r\n" + OK),
    (255, 0, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"),
    (1, 0, OK),
    (2, 2, CHUNKED),
    (255, 0, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"),
    (255, 0, b"HTTP/1.1 200 OK\r\nContent-Len"),
    (255, 0, b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"),
    (255, 0, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
    (255, 0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    (255, 0, b"HTTP/1.1 2000 Weird\r\n\r\n"),
    (255, 0, b"SIP/2.0 200 OK\r\n\r\n"),
    (255, 5, b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(20))
     + b"Content-Length: 2\r\n\r\nok"),
]


def main():
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_response_corpus")
    os.makedirs(corpus, exist_ok=True)
    for limit, piece, payload in SEEDS:
        data = bytes([limit, piece]) + payload
        with open(os.path.join(corpus, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), corpus))


if __name__ == "__main__":
    main()
