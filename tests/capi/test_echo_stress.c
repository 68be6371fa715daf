/* Many connections and an RST storm against a weft echo server, on
 * loopback. The server (this process, its loop on the test's thread) echoes
 * what each connection sends and closes it when it ends or fails. A child
 * process (plain POSIX sockets, no weft) is the clients:
 * 1. WEFT_ECHO_CONNECTIONS connections (default 400), 200 open at a time:
 *    each sends 16 bytes of its own and must read exactly them back;
 * 2. WEFT_RST_CONNECTIONS connections (default 400), 200 at a time: each
 *    sends half a message and is closed with SO_LINGER 0, so the server
 *    gets a reset (or nothing, if the reset beats the accept);
 * 3. one more connection that must still be echoed.
 * Then the server must have closed every connection it accepted, and the
 * fixture checks that the runtime's allocator got every block back. The
 * child's alarm ends it after 240 s; the server gives up after 300 s.
 * echo_stress_full_test (manual) runs 10,000 connections and 20,000 resets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/capi/support.h"

enum { kBatch = 200, kMessage = 16 };

static long count_from_env(const char* name, long fallback) {
  const char* text = getenv(name);
  if (text == NULL || *text == '\0') return fallback;
  long n = strtol(text, NULL, 10);
  return n > 0 && n <= 100000 ? n : fallback;
}

/* ---- the clients (child process, plain sockets) -------------------------- */

static int client_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct timeval timeout = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int attempt = 0; attempt < 50; ++attempt) {  /* a full backlog refuses for a moment */
    if (connect(fd, (struct sockaddr*)&address, sizeof address) == 0) return fd;
    if (errno != ECONNREFUSED && errno != EAGAIN && errno != EINTR) break;
    const struct timespec pause = {0, 20000000};
    nanosleep(&pause, NULL);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  close(fd);
  return -1;
}

static int read_exactly(int fd, char* buffer, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buffer + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static void message_of(long i, char* out) { snprintf(out, kMessage + 1, "conn%011ld", i); }

/* Exit codes: 0 all good; 2 connect failed; 3 write; 4 read; 5 wrong bytes. */
static int echo_round(uint16_t port, long total) {
  int fds[kBatch];
  for (long base = 0; base < total; base += kBatch) {
    const int n = (int)(total - base < kBatch ? total - base : kBatch);
    for (int i = 0; i < n; ++i) {
      fds[i] = client_connect(port);
      if (fds[i] < 0) return 2;
    }
    for (int i = 0; i < n; ++i) {
      char message[kMessage + 1];
      message_of(base + i, message);
      if (write(fds[i], message, kMessage) != kMessage) return 3;
    }
    for (int i = 0; i < n; ++i) {
      char expected[kMessage + 1], got[kMessage];
      message_of(base + i, expected);
      if (read_exactly(fds[i], got, kMessage) != 0) return 4;
      if (memcmp(got, expected, kMessage) != 0) return 5;
      close(fds[i]);
    }
  }
  return 0;
}

static int reset_round(uint16_t port, long total) {
  int fds[kBatch];
  for (long base = 0; base < total; base += kBatch) {
    const int n = (int)(total - base < kBatch ? total - base : kBatch);
    for (int i = 0; i < n; ++i) {
      fds[i] = client_connect(port);
      if (fds[i] < 0) return 2;
      if (write(fds[i], "half", 4) != 4) return 3;
    }
    for (int i = 0; i < n; ++i) {
      struct linger reset = {1, 0};
      setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      close(fds[i]);
    }
  }
  return 0;
}

static void clients_main(int port_pipe, long echoes, long resets) {
  alarm(240);
  uint16_t port = 0;
  if (read(port_pipe, &port, sizeof port) != (ssize_t)sizeof port) _exit(10);
  int code = echo_round(port, echoes);
  if (code == 0) code = reset_round(port, resets);
  if (code == 0) code = echo_round(port, 1) == 0 ? 0 : 6;
  _exit(code);
}

/* ---- the server (this process, weft) ------------------------------------ */

typedef struct server {
  weft_tcp_listener_t* listener;
  long accepted;
  long open;       /* accepted and not yet closed */
  long echoed;     /* bytes written back */
  long failures;   /* reads that ended with a reset or another failure */
  int accept_failed;
} server;

typedef struct connection {
  server* server;
  weft_stream_t* stream;
} connection;

static void start_read(connection* c);

static void close_connection(connection* c) {
  weft_stream_close(c->stream);
  c->server->open--;
  free(c);
}

static void on_written(void* user, weft_status status, const char* message) {
  connection* c = (connection*)user;
  (void)message;
  if (status != WEFT_OK) {
    close_connection(c);
    return;
  }
  start_read(c);
}

static void on_read(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  connection* c = (connection*)user;
  (void)message;
  if (status != WEFT_OK) {
    if (status != WEFT_ERR_END_OF_FILE) c->server->failures++;
    close_connection(c);
    return;
  }
  c->server->echoed += (long)len;
  if (weft_stream_write(NULL, c->stream, bytes, len, on_written, c) != WEFT_OK) close_connection(c);
}

static void start_read(connection* c) {
  if (weft_stream_read(NULL, c->stream, 4096, on_read, c) != WEFT_OK) close_connection(c);
}

static void on_accept(void* user, weft_status status, const char* message, weft_stream_t* stream);

static void accept_next(server* s) {
  if (weft_tcp_accept(NULL, s->listener, on_accept, s) != WEFT_OK) s->accept_failed = 1;
}

static void on_accept(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  server* s = (server*)user;
  (void)message;
  if (status == WEFT_OK) {
    connection* c = (connection*)calloc(1, sizeof *c);
    if (c == NULL) {
      weft_stream_close(stream);
    } else {
      c->server = s;
      c->stream = stream;
      s->accepted++;
      s->open++;
      start_read(c);
    }
  } else if (status == WEFT_ERR_CANCELLED || status == WEFT_ERR_CLOSED) {
    return;
  }
  accept_next(s);
}

/* Runs the loop (waiting on its backend fd at most 5 ms at a time) until
 * `done(user)` or `seconds` pass; returns whether done. */
static int serve_until(weft_loop_t* loop, int (*done)(void*), void* user, int seconds) {
  int fd = -1;
  weft_loop_backend_fd(&fd, loop);
  const time_t limit = time(NULL) + seconds;
  while (!done(user)) {
    if (time(NULL) > limit) return 0;
    weft_loop_run(loop, WEFT_RUN_NOWAIT);
    struct pollfd readable = {fd, POLLIN, 0};
    poll(&readable, 1, 5);
  }
  return 1;
}

typedef struct child_state {
  pid_t pid;
  int status;
  int exited;
} child_state;

static int child_exited(void* user) {
  child_state* c = (child_state*)user;
  if (!c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid) c->exited = 1;
  return c->exited;
}

static int all_closed(void* user) { return ((server*)user)->open == 0; }

static void test_echo_stress__connections_and_resets(void** state) {
  fixture* f = FIXTURE(state);
  const long echoes = count_from_env("WEFT_ECHO_CONNECTIONS", 400);
  const long resets = count_from_env("WEFT_RST_CONNECTIONS", 400);
  int port_pipe[2];
  assert_int_equal(pipe(port_pipe), 0);
  fflush(NULL);
  child_state child = {0, 0, 0};
  child.pid = fork();
  assert_true(child.pid >= 0);
  if (child.pid == 0) {
    close(port_pipe[1]);
    clients_main(port_pipe[0], echoes, resets);
  }
  close(port_pipe[0]);

  server s;
  memset(&s, 0, sizeof s);
  weft_tcp_listen_options options = WEFT_TCP_LISTEN_OPTIONS_INIT;
  options.backlog = 1024;
  assert_int_equal(weft_tcp_listen(&s.listener, f->loop, "127.0.0.1", 0, &options), WEFT_OK);
  uint16_t port = 0;
  assert_int_equal(weft_tcp_listener_port(&port, s.listener), WEFT_OK);
  accept_next(&s);
  assert_false(s.accept_failed);
  assert_int_equal(write(port_pipe[1], &port, sizeof port), (ssize_t)sizeof port);
  close(port_pipe[1]);

  const int served = serve_until(f->loop, child_exited, &child, 300);
  if (!served) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, &child.status, 0);
  }
  assert_true(served);
  assert_true(WIFEXITED(child.status));
  assert_int_equal(WEXITSTATUS(child.status), 0);
  /* Every connection the server took ends (EOF or reset) and is closed. */
  assert_true(serve_until(f->loop, all_closed, &s, 30));
  fprintf(stderr, "echo stress: %ld connections accepted, %ld bytes echoed, %ld reads ended by a failure\n",
          s.accepted, s.echoed, s.failures);
  assert_true(s.accepted >= echoes + 1);
  assert_true(s.accepted <= echoes + resets + 1);
  assert_true(s.echoed >= (echoes + 1) * kMessage);
  assert_false(s.accept_failed);
  weft_tcp_listener_close(s.listener);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_echo_stress__connections_and_resets, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
