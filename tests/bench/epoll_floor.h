/* What the benchmarks' floor servers (tests/bench/bulk/epoll_echo_server.c,
 * tests/bench/http/epoll_hello_server.c) share: a TCP server on 127.0.0.1
 * written directly on epoll, with no runtime at all, one thread,
 * level-triggered. The server supplies what a connection does with the bytes
 * it reads; this part listens, accepts, writes back what the server queued
 * (waiting for writability instead of reading while the kernel is full), and
 * stops on SIGINT or SIGTERM. Each connection is one malloc'd block that the
 * server's own connection type starts with an epoll_floor_conn; the kernel
 * closes what is left when the process exits. */
#ifndef WEFT_TESTS_BENCH_EPOLL_FLOOR_H
#define WEFT_TESTS_BENCH_EPOLL_FLOOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct epoll_floor_conn {
  int fd;
  char* out;               /* out[out_from..out_to] is still to be written */
  size_t out_from, out_to; /* both 0 once everything was written */
} epoll_floor_conn;

typedef struct epoll_floor_server {
  const char* name;        /* printed as "NAME listening on 127.0.0.1:PORT" */
  size_t connection_bytes; /* the server's connection type's size */
  /* A new connection, zero-filled but for its fd: set `out`. */
  void (*init)(epoll_floor_conn* c);
  /* The connection is readable (or hung up, or failed: read says which). */
  void (*on_readable)(int epoll_fd, epoll_floor_conn* c);
} epoll_floor_server;

/* epoll_ctl with `ptr` as the event's data. */
int epoll_floor_watch(int epoll_fd, int op, int fd, uint32_t events, void* ptr);

/* Closes the connection and frees it. */
void epoll_floor_drop(int epoll_fd, epoll_floor_conn* c);

/* Writes what is queued; if the kernel cannot take all of it, the connection
 * waits for writability (and is not read) until it has. Drops the
 * connection on an error. */
void epoll_floor_send(int epoll_fd, epoll_floor_conn* c);

/* Parses [--port N] (0, the default: the kernel chooses), listens, serves
 * until SIGINT or SIGTERM. Returns the process's exit status. */
int epoll_floor_main(int argc, char** argv, const epoll_floor_server* server);

#endif
