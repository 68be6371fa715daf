/* The floor servers' shared part; see epoll_floor.h. */
#define _GNU_SOURCE
#include "tests/bench/epoll_floor.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxEvents = 128 };

int epoll_floor_watch(int epoll_fd, int op, int fd, uint32_t events, void* ptr) {
  struct epoll_event event = {.events = events, .data.ptr = ptr};
  return epoll_ctl(epoll_fd, op, fd, &event);
}

void epoll_floor_drop(int epoll_fd, epoll_floor_conn* c) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
}

/* Writes what is queued; returns 0 when all of it is out, 1 when the kernel
 * is full, -1 on an error. */
static int flush(epoll_floor_conn* c) {
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

void epoll_floor_send(int epoll_fd, epoll_floor_conn* c) {
  int flushed = flush(c);
  if (flushed < 0) {
    epoll_floor_drop(epoll_fd, c);
  } else if (flushed > 0) {
    epoll_floor_watch(epoll_fd, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c);
  }
}

static void on_writable(int epoll_fd, epoll_floor_conn* c) {
  int flushed = flush(c);
  if (flushed < 0) {
    epoll_floor_drop(epoll_fd, c);
  } else if (flushed == 0) {
    epoll_floor_watch(epoll_fd, EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
  }
}

static void accept_all(int epoll_fd, int listen_fd, const epoll_floor_server* server) {
  for (int i = 0; i < 1024; ++i) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or e.g. out of descriptors: try on the next event */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    epoll_floor_conn* c = calloc(1, server->connection_bytes);
    if (c == NULL || epoll_floor_watch(epoll_fd, EPOLL_CTL_ADD, fd, EPOLLIN, c) != 0) {
      free(c);
      close(fd);
      continue;
    }
    c->fd = fd;
    server->init(c);
  }
}

int epoll_floor_main(int argc, char** argv, const epoll_floor_server* server) {
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
      epoll_floor_watch(epoll_fd, EPOLL_CTL_ADD, listen_fd, EPOLLIN, &listen_fd) != 0 ||
      epoll_floor_watch(epoll_fd, EPOLL_CTL_ADD, signal_fd, EPOLLIN, &signal_fd) != 0) {
    perror(server->name);
    return 1;
  }
  printf("%s listening on 127.0.0.1:%u\n", server->name, (unsigned)ntohs(address.sin_port));
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
        accept_all(epoll_fd, listen_fd, server);
        continue;
      }
      epoll_floor_conn* c = ptr;
      if (events[i].events & EPOLLOUT) {
        on_writable(epoll_fd, c);
      } else {
        server->on_readable(epoll_fd, c); /* EPOLLIN, EPOLLHUP or EPOLLERR: read says which */
      }
    }
  }
}
