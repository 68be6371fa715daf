"""Writes the seed inputs of the Redis reply fuzz target
(redis_reply_fuzz_target.cc) into redis_reply_corpus/, each named by the
SHA-1 of its bytes as libFuzzer names its own:

    /usr/bin/python3 tests/fuzz/redis_reply_seeds.py

Each input is a piece-size byte, then what a server sends (RESP): every
reply type, pipelined replies, nested and empty arrays, nil, binary-safe
bulk strings, pub/sub messages, cut-off replies, and bad input.
"""
import hashlib
import os

SEEDS = [
    (0, b"+OK\r\n"),
    (3, b"+OK\r\n$5\r\nhello\r\n:42\r\n-ERR unknown command 'NOPE'\r\n"),
    (1, b"$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n"),
    (7, b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhi\r\n!\r\n"),
    (2, b"*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n*1\r\n*1\r\n$1\r\nx\r\n"),
    (0, b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"),
    (5, b"$10\r\nbin\x00ary\r\n\xff!\r\n"),
    (0, b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (0, b"$5\r\nhel"),
    (0, b"*3\r\n:1\r\n"),
    (0, b"?bad\r\n"),
    (0, b":12x\r\n"),
    (0, b"$-5\r\n"),
    (0, b"*2\r\n:1\r\n%3\r\n"),
    (4, b":9223372036854775807\r\n:-9223372036854775808\r\n:99999999999999999999\r\n"),
]


def main():
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "redis_reply_corpus")
    os.makedirs(corpus, exist_ok=True)
    for piece, payload in SEEDS:
        data = bytes([piece]) + payload
        with open(os.path.join(corpus, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(SEEDS), corpus))


if __name__ == "__main__":
    main()
