"""Checks W12's floor (epoll_hello_server) against weft's C++ HTTP server:
for one request, two pipelined ones, and one split over three writes, the
floor answers byte for byte what weft answers (Date aside); a request with
a body closes the connection; SIGTERM stops it with exit status 0.

    epoll_hello_server_test.py FLOOR_SERVER WEFT_SERVER
"""
import re
import signal
import socket
import subprocess
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n"
DATE = re.compile(rb"Date: [^\r]*\r\n")


def start(binary):
    proc = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        proc.kill()
        sys.exit("%s did not say where it listens: %r" % (binary, line))
    return proc, int(match.group(1))


def exchange(port, pieces, responses):
    """Sends `pieces` (pausing between them) and reads until `responses`
    complete responses ("hello" bodies) came, or the peer closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.05)
        data = b""
        deadline = time.monotonic() + 5
        while data.count(b"hello") < responses and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return DATE.sub(b"Date: -\r\n", data)


def closed_after_body(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        return sock.recv(65536) == b""


def main():
    floor, weft = sys.argv[1], sys.argv[2]
    cases = [([REQUEST], 1), ([REQUEST * 2], 2),
             ([REQUEST[:5], REQUEST[5:30], REQUEST[30:]], 1)]
    answers = {}
    for name, binary in (("floor", floor), ("weft", weft)):
        proc, port = start(binary)
        try:
            answers[name] = [exchange(port, pieces, n) for pieces, n in cases]
            if name == "floor" and not closed_after_body(port):
                sys.exit("the floor answered a request with a body")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=10)
        if code != 0:
            sys.exit("%s exited with %d after SIGTERM" % (name, code))
    for (pieces, n), ours, theirs in zip(cases, answers["floor"], answers["weft"]):
        if theirs.count(b"hello") != n or ours != theirs:
            sys.exit("for %r: floor %r, weft %r" % (pieces, ours, theirs))
    print("ok: %d cases alike" % len(cases))


if __name__ == "__main__":
    main()
