/* weft's HTTP/1.1 example server on the C API — the C twin of
 * examples/http_server/ (C++ coroutines). Both run the same protocol code,
 * examples/http/ (Debian's http_parser, size limits, the routes);
 * docs/http-server.md describes them.
 *
 *   bazel run //examples/c:http_server -- --port 8080 [--host 127.0.0.1]
 *   curl -i http://127.0.0.1:8080/
 *   ... --tls-cert cert.pem --tls-key key.pem     (HTTPS: weft_tls_accept on
 *   each connection, then the same code on the TLS stream)
 *
 * --port 0 lets the kernel choose; the server prints where it listens.
 * SIGINT or SIGTERM: it stops accepting, closes idle connections, finishes
 * the requests in progress and exits 0 (a second signal ends it at once).
 *
 * Everything runs on the loop thread, in callbacks. A connection does one
 * thing at a time: it reads, or it writes the responses to what it read
 * (so a client that does not read its responses is not read either), or,
 * after its last response, it lingers: half-closed, reading and dropping
 * what the client still sends until it closes its side.
 *
 * Time-outs: a connection has --idle-timeout-ms to deliver each complete
 * request (from when the server starts waiting for it), then gets a 408
 * and is closed; a write the client does not take in that time, or a
 * linger longer than 2 s, closes it. Each connection has at most one timer
 * armed; when it fires early (the deadline moved on), it is armed again for
 * the new deadline, so requests themselves arm no timers.
 *
 * Ownership: the server owns its connections (a list). A connection is
 * freed once it has ended (stream closed) and none of its callbacks (read,
 * write, timer) is still to come; every callback is called exactly once,
 * with WEFT_ERR_CANCELLED when its operation was ended by a close. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

#include "examples/http/http_routes.h"
#include "examples/http/http_session.h"

#define READ_SIZE (64 * 1024)
#define KEEP_CAPACITY (64 * 1024)
#define LINGER_NS WEFT_SEC(2)
#define MAX_LINGER_BYTES (4 * 1024 * 1024)

typedef enum connection_state {
  READING,   /* waiting for (more of) a request */
  WRITING,   /* responses handed to weft_stream_write, not yet taken */
  LINGERING, /* the last response is out; half-closed, dropping input */
} connection_state;

struct server;

typedef struct connection {
  struct server* server;
  struct connection* prev;
  struct connection* next;
  weft_stream_t* stream;
  http_session session;
  http_buffer out;
  connection_state state;
  int close_after_write; /* the responses being written are the last */
  uint64_t deadline_ns;  /* the current wait's time-out (loop clock) */
  weft_future_t* timer;  /* armed for deadline_ns or earlier; NULL if none */
  size_t lingered;       /* bytes dropped while lingering */
  int read_pending, write_pending;
  int ended;  /* the stream is closed; free once nothing is pending */
  int ending; /* inside end(): callbacks it causes must not free */
} connection;

typedef struct server {
  weft_loop_t* loop;
  weft_tcp_listener_t* listener;
  http_limits limits;
  uint64_t idle_timeout_ns;
  uint64_t drain_timeout_ns;
  connection* connections;
  size_t connection_count;
  int shutting_down;
  weft_future_t* drain_timer;
  weft_tls_context_t* tls; /* NULL: plain HTTP */
} server;

static void read_next(connection* c);
static void start_connection(server* s, weft_stream_t* stream);
static void on_handshake(void* user, weft_status status, const char* message, weft_stream_t* stream);
static void write_out(connection* c);
static void end(connection* c);

static uint64_t now_ns(server* s) {
  uint64_t now = 0;
  weft_loop_now(&now, s->loop);
  return now;
}

/* Stops the loop once the server shuts down and no connection is left. */
static void finish_if_done(server* s) {
  if (!s->shutting_down || s->connection_count > 0) return;
  if (s->drain_timer != NULL) {
    weft_future_cancel(s->drain_timer); /* its callback runs inside, releases it */
  }
  weft_loop_stop(s->loop);
}

/* Frees `c` if it has ended and no callback of it is still to come. */
static void settle(connection* c) {
  if (!c->ended || c->ending || c->read_pending || c->write_pending || c->timer != NULL) return;
  server* s = c->server;
  http_session_free(&c->session);
  http_buffer_free(&c->out);
  free(c);
  finish_if_done(s);
}

static void on_timer(void* user, weft_status status, const char* message);

/* Makes sure a timer will fire by c->deadline_ns. */
static void arm_timer(connection* c) {
  if (c->timer != NULL || c->ended) return;
  if (weft_loop_call_at(&c->timer, c->server->loop, c->deadline_ns, on_timer, c) != WEFT_OK) {
    c->timer = NULL;
    end(c); /* no time-out possible: do not keep a connection that could hang */
  }
}

static void on_timer(void* user, weft_status status, const char* message) {
  (void)message;
  connection* c = user;
  weft_future_release(c->timer);
  c->timer = NULL;
  if (c->ended) {
    settle(c); /* cancelled by end() */
    return;
  }
  if (status != WEFT_OK) {
    end(c); /* the runtime is going away */
    return;
  }
  if (now_ns(c->server) < c->deadline_ns) {
    arm_timer(c); /* the deadline moved on since this timer was armed */
    return;
  }
  if (c->state != READING) {
    end(c); /* a write not taken, or a linger, for too long */
    return;
  }
  /* The client took too long: 408, then close. The pending read stays; what
   * it brings is dropped. */
  http_session_time_out(&c->session, &c->out);
  c->close_after_write = 1;
  write_out(c);
}

/* Ends the connection: closes its stream (pending callbacks run inside,
 * with WEFT_ERR_CANCELLED) and cancels its timer; frees it if nothing is
 * left to come. */
static void end(connection* c) {
  if (c->ended) return;
  server* s = c->server;
  c->ended = 1;
  c->ending = 1;
  weft_stream_close(c->stream);
  if (c->timer != NULL) weft_future_cancel(c->timer);
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    s->connections = c->next;
  }
  if (c->next != NULL) c->next->prev = c->prev;
  s->connection_count--;
  c->ending = 0;
  settle(c);
}

static void start_linger(connection* c) {
  c->state = LINGERING;
  c->deadline_ns = now_ns(c->server) + LINGER_NS;
  arm_timer(c);
  if (weft_stream_shutdown(NULL, c->stream, NULL, NULL) != WEFT_OK) {
    end(c);
    return;
  }
  if (!c->read_pending) read_next(c);
}

static void on_written(void* user, weft_status status, const char* message) {
  (void)message;
  connection* c = user;
  c->write_pending = 0;
  if (c->ended) {
    settle(c); /* closed by end(): this was the last callback, or not */
    return;
  }
  if (status != WEFT_OK) {
    end(c); /* the client went away; end() frees what is settled */
    return;
  }
  if (c->close_after_write) {
    start_linger(c);
  } else if (c->server->shutting_down && http_session_idle(&c->session)) {
    end(c);
  } else {
    c->state = READING;
    c->deadline_ns = now_ns(c->server) + c->server->idle_timeout_ns; /* a new request */
    read_next(c);
  }
}

/* Writes what is in c->out (copied by weft during the call). */
static void write_out(connection* c) {
  if (c->out.failed) {
    end(c); /* out of memory: close without an answer */
    return;
  }
  c->state = WRITING;
  c->deadline_ns = now_ns(c->server) + c->server->idle_timeout_ns;
  arm_timer(c);
  weft_status status = weft_stream_write(NULL, c->stream, c->out.data, c->out.len, on_written, c);
  http_buffer_reset(&c->out, KEEP_CAPACITY);
  if (status != WEFT_OK) {
    end(c);
    return;
  }
  c->write_pending = 1;
}

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  (void)message;
  connection* c = user;
  c->read_pending = 0;
  if (c->ended) {
    settle(c); /* closed by end() */
    return;
  }
  if (status != WEFT_OK) {
    end(c); /* end of stream (a partial request is dropped), or reset */
    return;
  }
  if (c->state == LINGERING) {
    c->lingered += len;
    if (c->lingered > MAX_LINGER_BYTES) {
      end(c);
    } else {
      read_next(c);
    }
    return;
  }
  if (c->state == WRITING) {
    /* A read left over from a time-out while the 408 goes out: dropped;
     * the linger that follows reads again. */
    c->lingered += len;
    return;
  }
  int closing = http_session_feed(&c->session, bytes, len, &c->out) == HTTP_SESSION_CLOSE;
  if (closing || c->out.len > 0 || c->out.failed) {
    c->close_after_write = closing;
    write_out(c);
  } else {
    read_next(c); /* a partial request: its deadline stays */
  }
}

static void read_next(connection* c) {
  arm_timer(c);
  if (c->ended) return;
  if (weft_stream_read(NULL, c->stream, READ_SIZE, on_read, c) != WEFT_OK) {
    end(c);
    return;
  }
  c->read_pending = 1;
}

static void on_accept(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  server* s = user;
  if (status == WEFT_ERR_CANCELLED) return; /* the listener closed */
  if (status != WEFT_OK) {
    fprintf(stderr, "accept: %s (%s)\n", message, weft_status_name(status));
  }
  weft_status again = weft_tcp_accept(NULL, s->listener, on_accept, s);
  if (again != WEFT_OK) {
    fprintf(stderr, "accept: %s (%s)\n", weft_status_str(again), weft_status_name(again));
  }
  if (status != WEFT_OK) return;
  if (s->tls == NULL) {
    start_connection(s, stream);
  } else if (weft_tls_accept(NULL, stream, s->tls, on_handshake, s) != WEFT_OK) {
    weft_stream_close(stream); /* refused: the stream is still ours */
  }
}

/* A TLS connection's handshake ended: serve the TLS stream (a failed or
 * timed-out handshake has closed the connection; it ends there). */
static void on_handshake(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  (void)message;
  server* s = user;
  if (status != WEFT_OK) return;
  if (s->shutting_down) {
    weft_stream_close(stream);
    return;
  }
  start_connection(s, stream);
}

/* Serves `stream` (a TCP or TLS one) as a new connection. */
static void start_connection(server* s, weft_stream_t* stream) {
  connection* c = calloc(1, sizeof(*c));
  if (c == NULL || http_session_init(&c->session, &s->limits, http_routes_handle, NULL) != 0) {
    free(c);
    weft_stream_close(stream);
    return;
  }
  c->server = s;
  c->stream = stream;
  c->out = (http_buffer)HTTP_BUFFER_INIT;
  c->state = READING;
  c->next = s->connections;
  if (s->connections != NULL) s->connections->prev = c;
  s->connections = c;
  s->connection_count++;
  c->deadline_ns = now_ns(s) + s->idle_timeout_ns;
  read_next(c);
}

static void on_drain_timeout(void* user, weft_status status, const char* message) {
  (void)message;
  server* s = user;
  weft_future_release(s->drain_timer);
  s->drain_timer = NULL;
  if (status != WEFT_OK) return; /* cancelled: every connection ended in time */
  for (connection* c = s->connections; c != NULL;) {
    connection* next = c->next;
    end(c);
    c = next;
  }
}

/* SIGINT/SIGTERM: stop accepting, close the idle connections, let the
 * others finish their request (its response says "Connection: close"). */
static void on_shutdown(void* user, weft_status status, const char* message, int signum) {
  (void)message;
  server* s = user;
  if (status != WEFT_OK || s->shutting_down) return;
  s->shutting_down = 1;
  weft_tcp_listener_close(s->listener);
  s->listener = NULL;
  /* After the close: once this is printed, connecting fails. */
  printf("shutting down (%s)\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
  fflush(stdout);
  for (connection* c = s->connections; c != NULL;) {
    connection* next = c->next;
    http_session_drain(&c->session);
    if (c->state == READING && http_session_idle(&c->session)) end(c);
    c = next;
  }
  if (s->connection_count > 0 &&
      weft_loop_call_later(&s->drain_timer, s->loop, s->drain_timeout_ns, on_drain_timeout, s) !=
          WEFT_OK) {
    s->drain_timer = NULL;
    on_drain_timeout(s, WEFT_OK, NULL);
  }
  finish_if_done(s);
}

static void usage(const char* program) {
  fprintf(stderr,
          "usage: %s [--host ADDRESS] [--port PORT] [--idle-timeout-ms MS]\n"
          "          [--drain-timeout-ms MS] [--max-header-bytes N] [--max-body-bytes N]\n"
          "          [--tls-cert PEM --tls-key PEM]\n",
          program);
  exit(2);
}

/* A whole number in [min, max], or usage(). */
static long long number(const char* program, const char* text, long long min, long long max) {
  char* end_of_number = NULL;
  errno = 0;
  long long value = strtoll(text, &end_of_number, 10);
  if (errno != 0 || end_of_number == text || *end_of_number != '\0' || value < min || value > max) {
    usage(program);
  }
  return value;
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  long long port = 8080;
  server s = {0};
  const char* tls_cert = NULL;
  const char* tls_key = NULL;
  s.limits = (http_limits)HTTP_LIMITS_DEFAULT;
  s.idle_timeout_ns = WEFT_SEC(10);
  s.drain_timeout_ns = WEFT_SEC(5);
  for (int i = 1; i < argc; ++i) {
    const char* flag = argv[i];
    if (i + 1 >= argc) usage(argv[0]);
    const char* value = argv[++i];
    if (strcmp(flag, "--host") == 0) {
      host = value;
    } else if (strcmp(flag, "--port") == 0) {
      port = number(argv[0], value, 0, 65535);
    } else if (strcmp(flag, "--idle-timeout-ms") == 0) {
      s.idle_timeout_ns = WEFT_MS(number(argv[0], value, 1, 86400000));
    } else if (strcmp(flag, "--drain-timeout-ms") == 0) {
      s.drain_timeout_ns = WEFT_MS(number(argv[0], value, 0, 86400000));
    } else if (strcmp(flag, "--max-header-bytes") == 0) {
      s.limits.max_head_bytes = (size_t)number(argv[0], value, 64, 1 << 24);
    } else if (strcmp(flag, "--tls-cert") == 0) {
      tls_cert = value;
    } else if (strcmp(flag, "--tls-key") == 0) {
      tls_key = value;
    } else if (strcmp(flag, "--max-body-bytes") == 0) {
      s.limits.max_body_bytes = (size_t)number(argv[0], value, 0, 1 << 30);
    } else {
      usage(argv[0]);
    }
  }
  if ((tls_cert == NULL) != (tls_key == NULL)) usage(argv[0]);

  weft_runtime_t* runtime = NULL;
  weft_signal_t* signals = NULL;
  uint16_t bound = 0;
  const char* failed = "";
  weft_status status = weft_runtime_create(&runtime, NULL);
  if (status == WEFT_OK) status = weft_runtime_loop(&s.loop, runtime);
  if (status == WEFT_OK && tls_cert != NULL) {
    static const char* const alpn[] = {"http/1.1"};
    weft_tls_context_options tls = WEFT_TLS_CONTEXT_OPTIONS_INIT;
    tls.verify = WEFT_TLS_VERIFY_NONE; /* no client certificates */
    tls.cert_file = tls_cert;
    tls.key_file = tls_key;
    tls.alpn = alpn;
    tls.alpn_count = 1;
    tls.handshake_timeout_ns = s.idle_timeout_ns;
    status = weft_tls_context_create(&s.tls, s.loop, WEFT_TLS_SERVER, &tls);
    if (status != WEFT_OK) failed = "TLS certificate or key: ";
  }
  if (status == WEFT_OK) status = weft_tcp_listen(&s.listener, s.loop, host, (uint16_t)port, NULL);
  if (status == WEFT_OK) status = weft_tcp_listener_port(&bound, s.listener);
  if (status == WEFT_OK) status = weft_tcp_accept(NULL, s.listener, on_accept, &s);
  if (status == WEFT_OK) status = weft_signal_shutdown(&signals, s.loop, on_shutdown, &s);
  if (status != WEFT_OK) {
    fprintf(stderr, "http_server: %s%s (%s)\n", failed, weft_status_str(status), weft_status_name(status));
    weft_runtime_destroy(runtime);
    return 1;
  }
  printf("http server listening on %s:%u\n", host, (unsigned)bound);
  fflush(stdout);

  /* Returns once the shutdown has ended every connection. */
  status = weft_loop_run(s.loop, WEFT_RUN_DEFAULT);
  /* Ends what is left (nothing, after a clean shutdown): pending callbacks
   * run with WEFT_ERR_CANCELLED and free their connections. */
  weft_signal_close(signals);
  weft_tls_context_destroy(s.tls);
  weft_runtime_destroy(runtime);
  return status == WEFT_OK ? 0 : 1;
}
