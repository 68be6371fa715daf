/* The floor for W12: a minimal HTTP "hello" server written directly on
 * epoll (tests/bench/epoll_floor.h), with no runtime and no HTTP parser,
 * answering exactly what weft's
 * example servers answer on / (same status line, headers and body), so that
 * `wrk` against it shows what the kernel alone costs per request here.
 *
 *   epoll_hello_server [--port N]     (N = 0, the default: the kernel chooses)
 *
 * Prints "http server listening on 127.0.0.1:PORT" and serves until SIGINT
 * or SIGTERM (it then exits 0; the kernel closes the connections). One
 * thread; level-triggered epoll. A request is everything up to an empty line
 * ("\r\n\r\n"); bodies are not supported (a request that says it has one, or
 * a head over 8 KiB, closes the connection), which is enough for wrk's GETs.
 * Each connection owns its input buffer (a partial request waits there for
 * the rest) and its output buffer: every complete request read appends one
 * response, and the responses to one read go out in one write; while the
 * kernel has not taken them all, the connection waits for writability
 * instead of reading. The Date header is formatted once a second. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/epoll_floor.h"

enum { kInputBytes = 8 * 1024, kOutputBytes = 64 * 1024 };

typedef struct connection {
  epoll_floor_conn base;        /* base.out is `out` */
  size_t in_len;                /* bytes of an incomplete request in `in` */
  char in[kInputBytes];
  char out[kOutputBytes];
} connection;

/* The response, with the Date header of the current second. */
static char response[256];
static size_t response_len;
static time_t response_second = -1;

static void refresh_response(void) {
  time_t now = time(NULL);
  if (now == response_second) return;
  response_second = now;
  struct tm utc;
  gmtime_r(&now, &utc);
  char date[64];
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  response_len = (size_t)snprintf(response, sizeof(response),
                                  "HTTP/1.1 200 OK\r\nServer: weft\r\nDate: %s\r\n"
                                  "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
                                  date);
}

/* Whether the head head[0..len) announces a body (which this server
 * refuses): a Transfer-Encoding, or a Content-Length other than 0. */
static int has_body(const char* head, size_t len) {
  static const char kLength[] = "content-length:";
  static const char kEncoding[] = "transfer-encoding:";
  const char* end = head + len;
  for (const char* line = head; line < end;) {
    const char* next = memchr(line, '\n', (size_t)(end - line));
    next = next != NULL ? next + 1 : end;
    size_t line_len = (size_t)(next - line);
    if (line_len > sizeof(kEncoding) - 1 && strncasecmp(line, kEncoding, sizeof(kEncoding) - 1) == 0) {
      return 1;
    }
    if (line_len > sizeof(kLength) - 1 && strncasecmp(line, kLength, sizeof(kLength) - 1) == 0) {
      const char* value = line + sizeof(kLength) - 1;
      while (*value == ' ') ++value;
      if (!(*value == '0' && (value[1] == '\r' || value[1] == ' '))) return 1;
    }
    line = next;
  }
  return 0;
}

/* Answers every complete request in `in`; keeps the partial one. Returns -1
 * if the connection must close. */
static int answer(connection* c) {
  epoll_floor_conn* base = &c->base;
  refresh_response();
  size_t start = 0;
  for (;;) {
    const char* end = memmem(c->in + start, c->in_len - start, "\r\n\r\n", 4);
    if (end == NULL) break;
    size_t head_len = (size_t)(end - (c->in + start)) + 4;
    if (has_body(c->in + start, head_len)) return -1;
    if (base->out_to + response_len > sizeof(c->out)) return -1; /* a flood of pipelined requests */
    memcpy(c->out + base->out_to, response, response_len);
    base->out_to += response_len;
    start += head_len;
  }
  memmove(c->in, c->in + start, c->in_len - start);
  c->in_len -= start;
  return c->in_len == sizeof(c->in) ? -1 : 0; /* a head too large */
}

static void init(epoll_floor_conn* base) {
  connection* c = (connection*)base;
  base->out = c->out;
}

static void on_readable(int epoll_fd, epoll_floor_conn* base) {
  connection* c = (connection*)base;
  ssize_t n = read(base->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    epoll_floor_drop(epoll_fd, base);
    return;
  }
  c->in_len += (size_t)n;
  if (answer(c) < 0) {
    epoll_floor_drop(epoll_fd, base);
    return;
  }
  epoll_floor_send(epoll_fd, base);
}

int main(int argc, char** argv) {
  const epoll_floor_server server = {"http server", sizeof(connection), init, on_readable};
  return epoll_floor_main(argc, argv, &server);
}
