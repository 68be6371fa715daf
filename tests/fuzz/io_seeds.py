# Hand-written programs for the I/O steps of the capi fuzz target (opcodes
# 224 + n; see io_step in capi_fuzz_io.cc for what each byte means),
# written into the corpus:
#   python3 tests/fuzz/io_seeds.py tests/fuzz/corpus
# Each one runs steps the fuzzer reaches only by long chains (a pair, a
# write, a read, a wait), so that the replay test covers every I/O step.
import os, sys
IO = 224
WAIT = [IO + 31, 7]
def op(n, a, *rest): return [IO + n, a, *rest]

seeds = {}

# Socket pair: write, read_until, read_exactly, read, backpressure, drain,
# limits, shutdown, close with a read pending; TCP as a stream.
s = []
s += op(0, 3, 0)                      # pipe_pair -> streams 0, 1
s += op(8, 0, 0, 0, 3, 19)            # write kText (20 bytes) on 0
s += op(7, 0, 8, 0, 1, 4, 5, 31)      # read_until "\n", max 32, on 1
s += WAIT
s += op(6, 1, 8, 0, 5, 3)             # read_exactly 4 on 1
s += WAIT
s += op(7, 0, 8, 0, 2, 9, 10, 5, 31)  # read_until "\r\n"
s += WAIT
s += op(6, 0, 8, 0, 4, 0, 100)        # read max 101
s += WAIT
s += op(9, 0, 0) + op(9, 1, 8)        # write_buffered, read_buffered
s += op(10, 0, 0, 5, 2, 1, 1)         # set_limits: read 2, write high 1024, low 1
for _ in range(6): s += op(8, 0, 0, 0, 0, 255)  # 64 KiB writes: backpressure
s += op(9, 2, 0, 0)                   # drain
s += op(9, 2, 0, 0)
s += WAIT + WAIT
s += op(6, 1, 8, 0, 1)                # read_exactly 64 MiB (waits)
s += WAIT
s += op(12, 0, 8)                     # close 1: read cancelled
s += WAIT
s += op(11, 0, 0, 0)                  # shutdown 0 (peer gone)
s += op(8, 0, 0, 0, 3, 3)             # write after shutdown
s += WAIT
s += op(0, 3, 0)                      # streams 2, 3
s += op(11, 0, 16, 0)                 # shutdown 2
s += op(7, 0, 24, 0, 1, 4, 5, 31)     # read_until on 3: end of stream
s += WAIT
s += op(10, 1, 16, 8, 3, 3, 3)        # set_limits, struct_size 8
s += op(10, 0, 16, 2, 4, 1, 2, 9)     # write_low above write_high: refused
s += op(9, 2, 16, 0)
s += WAIT
# TCP through weft_tcp_as_stream
s += [24, 0]                          # tcp listen
s += [25, 1, 0]                       # tcp accept
s += [25, 0, 0, 0]                    # tcp connect
s += WAIT + WAIT + WAIT
s += op(8, 0, 5, 0, 3, 19)            # write on tcp stream 0
s += op(7, 0, 13, 0, 1, 4, 5, 31)     # read_until on tcp stream 1
s += op(6, 0, 5, 0, 5, 7)             # read on tcp stream 0 (pending)
s += WAIT + WAIT
s += op(10, 0, 5, 5, 2, 1, 1) + op(9, 2, 5, 0) + op(11, 0, 13, 0)
s += WAIT
s += op(12, 0, 5) + op(12, 0, 13)
s += WAIT
seeds['io-streams'] = s

# Unix domain sockets: listen, accept, connect (by the listener's path),
# listener_path, bad paths, pipe_open of pipe(2) ends and bad descriptors.
s = []
s += op(1, 0, 2, 0)                   # listen on s0
s += op(1, 4, 2, 0)                   # again: address in use
s += op(1, 0, 6, 0)                   # too long for a socket
s += op(1, 0, 5, 0)                   # no directory
s += op(1, 7, 3, 5, 200, 0)           # s1 with options: struct_size 5, backlog -56
s += op(2, 1, 0)                      # accept
s += op(3, 3, 0, 9, 0, 0)             # connect to listener 0's path
s += op(3, 2, 0, 0, 0, 0)             # connect to f0: not found
s += op(4, 0, 100) + op(4, 0, 5) + op(4, 4, 0) + op(4, 3, 9)
s += WAIT + WAIT + WAIT
s += op(8, 0, 0, 0, 3, 19)            # write on the accepted/connected stream
s += op(7, 0, 8, 0, 1, 4, 5, 31)
s += WAIT + WAIT
s += op(2, 1, 0)                      # accept pending ...
s += op(5, 1)                         # ... listener closed: cancelled
s += op(5, 4, 0)                      # pipe_open: both ends of a pipe(2)
s += op(8, 0, 32, 0, 3, 19)           # write to the write end (stream 3)
s += op(6, 0, 16, 0, 5, 31)           # read the read end (stream 2)
s += op(6, 0, 32, 0, 5, 31)           # read the write end
s += WAIT + WAIT
s += op(5, 0, 0, 3) + op(5, 2, 0) + op(5, 6, 0)   # negative, not open, a file
s += op(0, 0, 0) + op(0, 1, 0) + op(0, 2, 0) + op(0, 0x83, 1, 2, 3, 4, 5, 6, 7, 8)
s += op(3, 2, 0, 5, 0, 0)             # connect with no such directory
s += WAIT
seeds['io-pipes'] = s

# UDP between the program's sockets.
s = []
s += op(13, 0, 0, 0)                  # bind 127.0.0.1:0 -> socket 0
s += op(13, 0, 0, 0)                  # socket 1
s += op(13, 2 | 16 | 32, 0, 1, 0)     # reuse_address on socket 1's port: in use (1 without reuse)
s += op(13, 0, 5, 0)                  # ::1
s += op(13, 0, 6, 0) + op(13, 0, 14, 0) + op(13, 0, 7, 0)  # "", localhost, NULL
s += op(13, 1 | 8 | 32, 3, 2, 0, 0)   # struct_size 3, max_queued 2
s += op(15, 2, 0)                     # recv_from on 1
s += op(14, 0, 0, 1, 0, 3, 5, 0)      # send 6 bytes 0 -> 1
s += WAIT + WAIT
s += op(14, 0, 0, 1, 0, 1, 0)         # empty datagram
s += op(15, 2, 0)
s += WAIT
s += op(14, 0, 0, 1, 8, 3, 5, 0)      # 70000 bytes: too long
s += op(14, 0, 0, 1, 16, 3, 5, 0)     # over 4 GiB: refused
s += op(14, 1, 0, 1, 6, 3, 5, 0) + op(14, 0, 0, 1, 7, 3, 5, 0)  # localhost, NULL host
for _ in range(4): s += op(14, 1, 0, 1, 0, 3, 5, 0)  # queued while no receive waits
s += WAIT + op(15, 2, 0) + WAIT
s += op(15, 0, 0) + op(15, 0, 0)      # recv on 0; a second one: refused
s += op(16, 0) + op(16, 2) + op(16, 4)   # local_address
s += op(16, 1)                        # close 0: receive cancelled
s += op(16, 0) + op(15, 0, 0)         # stale
s += WAIT
seeds['io-udp'] = s

# Files: open, write_at, read_at, size, sync, read_all, write_all, close.
s = []
s += op(17, 0, 0, 7, 2, 0, 0)         # open f0 READ_WRITE|CREATE
s += op(17, 0, 4, 2, 2, 0, 0)         # the directory for writing
s += op(17, 0, 5, 1, 2, 0, 0)         # no directory
s += op(17, 0, 7, 7, 2, 0, 0)         # a name too long
s += op(17, 3, 1, 7, 6, 2, 0, 0)      # an unknown mode bit
s += op(17, 0, 1, 0x24, 2, 0, 0)      # EXCLUSIVE without CREATE... 
s += op(17, 8 | 2, 1, 7, 2, 0, 0)     # permissions 010000: refused
s += op(17, 4, 1, 7, 3, 1, 0, 0)      # struct_size 3
s += op(17, 0, 1, 7, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0)   # a forged executor
s += WAIT + WAIT + WAIT
s += op(19, 0, 0, 0, 3, 9, 0)         # write_at 0, 10 bytes
s += op(19, 1, 0, 2, 0, 3, 0)         # write_at 512, 1 KiB
s += op(19, 2, 0, 3, 9, 0) + op(19, 0x82, 0, 3, 9, 0)   # offsets INT64_MAX, one past
s += op(19, 0, 0, 0, 2 | 8, 0)        # NULL bytes with a length
s += WAIT + WAIT
s += op(18, 0, 0, 0, 1, 0)            # read_at 0, max 65
s += op(18, 0, 0, 200, 1, 0)          # read_at 200
s += op(18, 1, 0, 200, 1, 0)          # read_at 51200: end
s += op(18, 4, 0, 0, 0) + op(18, 0x82, 0, 1, 0)   # max 0, offset past INT64_MAX
s += op(20, 0, 0, 0) + op(20, 1, 0, 0) + op(20, 2, 0, 0) + op(20, 3, 0, 0)
s += WAIT + WAIT + WAIT
s += op(22, 1, 0, 2, 0, 0)            # read_all f0
s += op(22, 0, 1, 2, 0, 0, 3, 5)      # write_all f1
s += op(22, 1, 4, 2, 0, 0)            # read_all of the directory
s += op(22, 0x31, 1, 2, 0, 0)         # NULL callback: refused
s += op(22, 2 | 1, 0, 3, 2, 0, 0)     # struct_size 3
s += WAIT + WAIT + WAIT
s += op(17, 0, 1, 1, 2, 0, 0)         # open f1 READ -> file 1
s += WAIT + WAIT
s += op(19, 0, 1, 0, 3, 9, 0)         # write to a read-only file: refused
s += op(18, 0, 1, 0, 1, 0)            # read pending ...
s += op(21, 1)                        # ... file closed: cancelled
s += op(18, 0, 1, 0, 1, 0)            # stale
s += op(21, 0)
s += WAIT
seeds['io-files'] = s

# DNS: localhost and numeric hosts.
s = []
s += op(23, 0, 0, 0x1F, 0x90, 0, 0)        # localhost, IPv4, datagram
s += op(23, 4, 1 + 8 * 3, 0, 80, 0, 0)     # 127.0.0.1, any
s += op(23, 4, 2, 0, 53, 0, 0)             # ::1, IPv6
s += op(23, 4, 2 + 8, 0, 53, 0, 0)         # ::1 as IPv4: not found
s += op(23, 4, 3 + 8 * 3, 0, 1, 0, 0)      # ::ffff:127.0.0.1
s += op(23, 4, 0 + 8 * 3 + 32, 3, 0, 7, 0, 0)   # localhost, a bad socktype: refused
s += op(23, 4, 1 + 16, 9, 0, 7, 0, 0)      # a bad family: refused
s += op(23, 4, 4, 0, 7, 0, 0) + op(23, 4, 5, 0, 7, 0, 0)   # "", NULL
s += op(23, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 7, 0, 0)   # a forged executor
s += op(23, 1, 1, 3, 0, 7, 0, 0)           # struct_size 3
s += op(23, 0x30, 1, 0, 7, 0, 0)           # NULL callback
for _ in range(6): s += WAIT
s += op(23, 4, 1, 0, 9, 0, 0)              # pending at the end: cancelled
seeds['io-dns'] = s

# Signals: SIGUSR1/SIGUSR2 watched, waited for, raised; bad signal numbers.
s = []
s += op(24, 0, 0)                     # watch SIGUSR1 -> signal 0
s += op(25, 0, 0)                     # wait on 0
s += op(26, 0)                        # raise SIGUSR1
s += WAIT + WAIT
s += op(24, 0, 3)                     # watch SIGUSR2 -> signal 1
s += op(26, 1)                        # raised before the wait: kept
s += op(25, 1, 0)
s += WAIT + WAIT
s += op(25, 1, 0) + op(25, 1, 0)      # two waits ...
s += op(27, 3)                        # ... closed: cancelled
s += op(25, 1, 0)                     # stale
s += op(24, 0, 5) + op(24, 0, 6) + op(24, 0, 14) + op(24, 0, 15) + op(24, 0, 7, 3)
s += op(24, 0xF0, 0)                  # NULL out
s += op(25, 0xE0, 0)                  # NULL callback
s += op(27, 0, 0)                     # shutdown with NULL out
s += op(24, 0, 0) + op(25, 2, 0)      # another SIGUSR1 watch (2)
s += op(25, 0, 0)
s += op(26, 0) + WAIT + WAIT
s += op(27, 1)                        # close 0: SIGUSR1 still watched by 2
s += op(26, 0) + WAIT
s += op(25, 2, 0)                     # pending at the end
seeds['io-signals'] = s

# Misuse: spawns that must fail, every I/O function with handles of other
# kinds, stale and forged handles; callbacks that close handles (their own
# too) from inside.
s = []
for a in (0, 1, 2, 3, 7, 15, 16 | 3, 32 | 3, 64 | 3):
    s += op(28, a, 0, 1, 4) + ([5] if a & 16 else []) + [0]
s += op(0, 3, 0) + op(13, 0, 0, 0) + op(1, 0, 2, 0) + op(24, 0, 0)
s += op(17, 0, 0, 7, 2, 0, 0) + WAIT + WAIT
s += [12, 0]                          # a timer's scope...
for b in range(1, 12):
    s += op(29, 0, b, 0)
s += op(29, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8)     # forged
s += op(29, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1)        # generation 1, index 1
s += WAIT
# closes from inside callbacks (actions 0xF0..0xF9)
s += op(0, 3, 0) + op(13, 0, 0, 0) + op(13, 0, 0, 0)
for i, act in enumerate(range(0xF0, 0xFA)):
    s += op(6, 0, 8 * (i % 4), act, 5, 31)
    s += op(8, 0, 8 * ((i + 1) % 4), 0, 3, 19)
s += op(15, 2, 0xF2) + op(14, 0, 0, 1, 0, 3, 5, 0xF8)
for _ in range(4): s += WAIT
s += [13, 1] + op(0, 3, 1) + op(13, 0, 0, 1)     # a scope and its I/O
s += [14, 0]                                      # the scope cancelled
s += op(0, 3, 1) + [15, 0] + op(0, 3, 1)          # destroyed
s += WAIT
seeds['io-misuse'] = s

out = sys.argv[1]
for name, data in seeds.items():
    assert all(0 <= b < 256 for b in data), name
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes(data))
    print(name, len(data))

# Callbacks that end handles (maybe their own) or start more I/O from inside.
s = []
s += op(0, 3, 0) + op(0, 3, 0)                         # streams 0..3
s += op(13, 0, 0, 0) + op(13, 0, 0, 0)                 # udp 0, 1
s += op(1, 0, 2, 0)                                    # a pipe listener
s += op(17, 0, 0, 7, 2, 0, 0) + WAIT + WAIT            # file 0
s += op(24, 0, 0)                                      # SIGUSR1
def rw(reader, writer, act):
    return op(6, 0, 8 * reader, act, 5, 31) + op(8, 0, 8 * writer, 0, 3, 19) + WAIT + WAIT
s += rw(1, 0, 0xF6) + rw(1, 0, 0xF7) + rw(3, 2, 0xF5) + rw(3, 2, 0xF1)
s += op(15, 2, 0xF8) + op(14, 0, 0, 1, 0, 3, 5, 0) + op(14, 0, 0, 1, 0, 3, 5, 0) + WAIT + WAIT
s += op(18, 0, 0, 0, 1, 0xF9) + WAIT + WAIT
s += op(25, 0, 0xF4) + op(26, 0) + WAIT
s += op(18, 0, 0, 0, 1, 0xF3) + WAIT + WAIT
s += op(15, 2, 0xF2) + op(14, 0, 0, 1, 0, 3, 5, 0) + WAIT + WAIT
s += rw(1, 0, 0xF0) + rw(3, 2, 0xF0)
seeds2 = {'io-callbacks': s}

# Writes to a peer that is gone: WEFT_ERR_BROKEN_PIPE, never SIGPIPE's
# default action (which ended the process before weft ignored SIGPIPE).
s = op(0, 3, 0) + op(12, 0, 8)
for _ in range(3): s += op(8, 0, 0, 0, 3, 19) + WAIT
seeds2['io-broken-pipe'] = s
for name, data in seeds2.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes(data))
    print(name, len(data))

# Operation futures (weft.h's one asynchronous model): the action byte's
# bits 3..4 choose `out` (out_mode: 72 kept, 48 released at once, 24
# cancelled at once; each does nothing else when called). Kept futures are
# cancelled by the cancel steps (weft_future_cancel), one read, receive or
# accept at a time, and by the core steps (cancel, then, release).
s = []
s += op(0, 3, 0)                      # streams 0, 1
s += op(6, 0, 8, 72, 5, 31)           # read on 1, future kept
s += op(12, 0, 0)                     # cancel that read through its future
s += WAIT
s += op(6, 0, 8, 24, 5, 31)           # read, cancelled at once
s += op(6, 0, 8, 48, 5, 31)           # read, future released at once
s += op(8, 0, 0, 72, 3, 19)           # write on 0, future kept: completes it
s += WAIT + WAIT
s += op(6, 6, 8, 72, 5, 31)           # read with no callback, future only
s += op(8, 1, 0, 72, 3, 19)           # write with no callback, future only
s += WAIT + WAIT
s += op(9, 2, 0, 72) + op(11, 0, 0, 72) + WAIT   # drain, shutdown, kept
s += op(13, 0, 0, 0) + op(13, 0, 0, 0)           # udp 0, 1
s += op(15, 2, 72)                    # recv on 1, kept
s += op(12, 1)                        # cancelled through its future
s += op(15, 2, 72) + op(14, 0, 0, 1, 0, 3, 5, 72) + WAIT + WAIT
s += op(1, 0, 2, 0)                   # a pipe listener
s += op(2, 1, 72) + op(12, 2)         # accept kept, cancelled
s += op(2, 1, 72) + op(3, 3, 0, 9, 0, 72) + WAIT + WAIT
s += [24, 0] + [25, 1, 72] + op(12, 3)           # tcp accept kept, cancelled
s += [25, 1, 72] + [25, 0, 72, 0] + WAIT + WAIT  # accept, connect
s += [1, 0, 72, 5] + [1, 1, 72, 5]    # timers: kept with a callback, future only
s += [2, 0]                           # one cancelled through its future
s += [1, 0, 24, 5] + [1, 0, 48, 5]    # cancelled at once, released at once
s += [12, 10] + [10, 3]               # the clock moves: the rest fire
s += op(17, 0, 0, 7, 2, 0, 72) + WAIT + WAIT     # file open, kept
s += op(19, 0, 0, 0, 3, 9, 72) + op(20, 0, 0, 72) + WAIT + WAIT
s += op(18, 0, 0, 0, 1, 72) + WAIT + WAIT
s += op(23, 4, 1 + 8 * 3, 0, 80, 72, 0) + WAIT + WAIT   # resolve, kept
s += [7, 3] + [8, 4] + [4, 5, 0, 0]   # core steps on kept futures
s += WAIT
seeds2 = {'io-futures': s}
for name, data in seeds2.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes(data))
    print(name, len(data))
