/* The floor for W12: a minimal HTTP "hello" server written directly on
 * epoll, with no runtime and no HTTP parser, answering exactly what weft's
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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kInputBytes = 8 * 1024, kOutputBytes = 64 * 1024, kMaxEvents = 128 };

typedef struct connection {
  int fd;
  size_t in_len;                /* bytes of an incomplete request in `in` */
  size_t out_from, out_to;      /* out[out_from..out_to] still to be written */
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

static int watch(int epoll_fd, int op, int fd, uint32_t events, void* ptr) {
  struct epoll_event event = {.events = events, .data.ptr = ptr};
  return epoll_ctl(epoll_fd, op, fd, &event);
}

static void drop(int epoll_fd, connection* c) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
}

/* Writes what is pending; returns 0 when all of it is out, 1 when the kernel
 * is full, -1 on an error. */
static int flush(connection* c) {
  while (c->out_from < c->out_to) {
    ssize_t n = write(c->fd, c->out + c->out_from, c->out_to - c->out_from);
    if (n > 0) {
      c->out_from += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return 1;
    } else {
      return -1;
    }
  }
  c->out_from = c->out_to = 0;
  return 0;
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
  refresh_response();
  size_t start = 0;
  for (;;) {
    const char* end = memmem(c->in + start, c->in_len - start, "\r\n\r\n", 4);
    if (end == NULL) break;
    size_t head_len = (size_t)(end - (c->in + start)) + 4;
    if (has_body(c->in + start, head_len)) return -1;
    if (c->out_to + response_len > sizeof(c->out)) return -1; /* a flood of pipelined requests */
    memcpy(c->out + c->out_to, response, response_len);
    c->out_to += response_len;
    start += head_len;
  }
  memmove(c->in, c->in + start, c->in_len - start);
  c->in_len -= start;
  return c->in_len == sizeof(c->in) ? -1 : 0; /* a head too large */
}

static void on_readable(int epoll_fd, connection* c) {
  ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    drop(epoll_fd, c);
    return;
  }
  c->in_len += (size_t)n;
  if (answer(c) < 0) {
    drop(epoll_fd, c);
    return;
  }
  int flushed = flush(c);
  if (flushed < 0) {
    drop(epoll_fd, c);
  } else if (flushed > 0) {
    watch(epoll_fd, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c);
  }
}

static void on_writable(int epoll_fd, connection* c) {
  int flushed = flush(c);
  if (flushed < 0) {
    drop(epoll_fd, c);
  } else if (flushed == 0) {
    watch(epoll_fd, EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
  }
}

static void accept_all(int epoll_fd, int listen_fd) {
  for (int i = 0; i < 1024; ++i) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or e.g. out of descriptors: try on the next event */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    connection* c = malloc(sizeof(*c));
    if (c == NULL || watch(epoll_fd, EPOLL_CTL_ADD, fd, EPOLLIN, c) != 0) {
      free(c);
      close(fd);
      continue;
    }
    c->fd = fd;
    c->in_len = c->out_from = c->out_to = 0;
  }
}

int main(int argc, char** argv) {
  long port = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      char* end = NULL;
      port = strtol(argv[++i], &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) port = -1;
    } else {
      port = -1;
    }
    if (port < 0) {
      fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
      return 2;
    }
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);
  int signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);

  int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof(address);
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (signal_fd < 0 || listen_fd < 0 || epoll_fd < 0 ||
      bind(listen_fd, (struct sockaddr*)&address, sizeof(address)) != 0 ||
      listen(listen_fd, 511) != 0 ||
      getsockname(listen_fd, (struct sockaddr*)&address, &length) != 0 ||
      watch(epoll_fd, EPOLL_CTL_ADD, listen_fd, EPOLLIN, &listen_fd) != 0 ||
      watch(epoll_fd, EPOLL_CTL_ADD, signal_fd, EPOLLIN, &signal_fd) != 0) {
    perror("epoll_hello_server");
    return 1;
  }
  printf("http server listening on 127.0.0.1:%u\n", (unsigned)ntohs(address.sin_port));
  fflush(stdout);

  /* Connections are found through their epoll entries; at the end the
   * process exits and the kernel closes them. */
  for (;;) {
    struct epoll_event events[kMaxEvents];
    int ready = epoll_wait(epoll_fd, events, kMaxEvents, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < ready; ++i) {
      void* ptr = events[i].data.ptr;
      if (ptr == &signal_fd) {
        printf("shutting down\n");
        return 0;
      }
      if (ptr == &listen_fd) {
        accept_all(epoll_fd, listen_fd);
        continue;
      }
      connection* c = ptr;
      if (events[i].events & EPOLLOUT) {
        on_writable(epoll_fd, c);
      } else {
        on_readable(epoll_fd, c); /* EPOLLIN, EPOLLHUP or EPOLLERR: read says which */
      }
    }
  }
}
