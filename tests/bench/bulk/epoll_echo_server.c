/* The reference for W11's bulk variants: a minimal TCP echo server written
 * directly on epoll, with no runtime at all (tests/bench/epoll_floor.h).
 *
 *   epoll_echo_server [--port N]     (N = 0, the default: the kernel chooses)
 *
 * Prints "echo server listening on 127.0.0.1:PORT" and serves until SIGINT or
 * SIGTERM (it then exits 0; the kernel closes the connections). One thread;
 * level-triggered epoll; each connection owns one 64 KiB buffer: read into
 * it, write it back, and while the kernel has not taken all of it, wait for
 * writability instead of reading (so a client that does not read its echoes
 * stops being read). */
#include <errno.h>
#include <unistd.h>

#include "tests/bench/epoll_floor.h"

enum { kBufferBytes = 64 * 1024 };

typedef struct connection {
  epoll_floor_conn base; /* base.out is `buffer` */
  char buffer[kBufferBytes];
} connection;

static void init(epoll_floor_conn* base) {
  connection* c = (connection*)base;
  base->out = c->buffer;
}

static void on_readable(int epoll_fd, epoll_floor_conn* base) {
  connection* c = (connection*)base;
  ssize_t n = read(base->fd, c->buffer, sizeof(c->buffer));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    epoll_floor_drop(epoll_fd, base);
    return;
  }
  base->out_from = 0;
  base->out_to = (size_t)n;
  epoll_floor_send(epoll_fd, base);
}

int main(int argc, char** argv) {
  const epoll_floor_server server = {"echo server", sizeof(connection), init, on_readable};
  return epoll_floor_main(argc, argv, &server);
}
