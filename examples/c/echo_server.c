/* A TCP echo server on weft's C API — the C twin of examples/echo_server.cc.
 *
 *   bazel run //examples/c:echo_server -- --port 7000 [--host 0.0.0.0]
 *
 * --port 0 (the default) lets the kernel choose; the server prints where it
 * listens. SIGINT or SIGTERM stops it gracefully: destroying the runtime
 * closes the listener and every connection, and each pending callback is
 * called once with WEFT_ERR_CANCELLED, which frees its connection.
 *
 * Each connection has exactly one operation pending at a time — a read, or
 * the write echoing what it read — so a client that does not read its echoes
 * stops being read (backpressure), and whichever callback sees the end frees
 * the connection. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft/weft.h>

typedef struct connection {
  weft_stream_t* stream;
} connection;

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len);

/* Ends a connection: closes its stream (nothing is pending on it) and frees it. */
static void finish(connection* c) {
  weft_stream_close(c->stream);
  free(c);
}

static void read_next(connection* c) {
  if (weft_stream_read(NULL, c->stream, 64 * 1024, on_read, c) != WEFT_OK) finish(c);
}

static void on_written(void* user, weft_status status, const char* message) {
  (void)message;
  connection* c = user;
  if (status == WEFT_ERR_CANCELLED) {
    free(c); /* the stream was ended (shutdown): only the memory is left */
  } else if (status != WEFT_OK) {
    finish(c); /* the peer went away */
  } else {
    read_next(c);
  }
}

static void on_read(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  (void)message;
  connection* c = user;
  if (status == WEFT_ERR_CANCELLED) {
    free(c);
  } else if (status != WEFT_OK) {
    finish(c); /* end of stream, or reset */
  } else if (weft_stream_write(NULL, c->stream, bytes, len, on_written, c) != WEFT_OK) {
    finish(c); /* bytes are copied during the call */
  }
}

static void on_accept(void* user, weft_status status, const char* message,
                      weft_stream_t* stream) {
  weft_tcp_listener_t* listener = user;
  if (status == WEFT_ERR_CANCELLED) return; /* shutting down */
  if (status != WEFT_OK) {
    /* e.g. out of file descriptors: say why, and try the next */
    fprintf(stderr, "accept: %s (%s)\n", message, weft_status_name(status));
  }
  /* Wait for the next client before serving this one. */
  weft_status again = weft_tcp_accept(NULL, listener, on_accept, listener);
  if (again != WEFT_OK) {
    /* The new accept failed at once: report its failure, not the old one. */
    fprintf(stderr, "accept: %s (%s)\n", weft_status_str(again), weft_status_name(again));
  }
  if (status != WEFT_OK) return;
  connection* c = malloc(sizeof(*c));
  if (c == NULL) {
    weft_stream_close(stream);
    return;
  }
  c->stream = stream;
  read_next(c);
}

/* SIGINT/SIGTERM (weft_signal_shutdown): note which, and stop the loop. */
static void on_shutdown(void* user, weft_status status, const char* message, int signum) {
  (void)message;
  if (status != WEFT_OK) return; /* the watch was closed first */
  weft_loop_t* loop = user;
  printf("shutting down (%s)\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
  fflush(stdout);
  weft_loop_stop(loop);
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  long port = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = strtol(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else {
      fprintf(stderr, "usage: %s [--port N] [--host ADDRESS]\n", argv[0]);
      return 2;
    }
  }
  if (port < 0 || port > 65535) {
    fprintf(stderr, "bad port %ld\n", port);
    return 2;
  }

  weft_runtime_t* runtime = NULL;
  weft_loop_t* loop = NULL;
  weft_tcp_listener_t* listener = NULL;
  weft_signal_t* shutdown = NULL;
  uint16_t bound = 0;
  weft_status status = weft_runtime_create(&runtime, NULL);
  if (status == WEFT_OK) status = weft_runtime_loop(&loop, runtime);
  if (status == WEFT_OK) status = weft_tcp_listen(&listener, loop, host, (uint16_t)port, NULL);
  if (status == WEFT_OK) status = weft_tcp_listener_port(&bound, listener);
  if (status == WEFT_OK) status = weft_tcp_accept(NULL, listener, on_accept, listener);
  if (status == WEFT_OK) status = weft_signal_shutdown(&shutdown, loop, on_shutdown, loop);
  if (status != WEFT_OK) {
    fprintf(stderr, "echo server: %s (%s)\n", weft_status_str(status), weft_status_name(status));
    weft_runtime_destroy(runtime);
    return 1;
  }
  printf("echo server listening on %s:%u\n", host, (unsigned)bound);
  fflush(stdout);

  /* Returns once on_shutdown stops it: the pending accept keeps it going. */
  status = weft_loop_run(loop, WEFT_RUN_DEFAULT);
  /* Closes the listener, the signal watch and every connection; their
   * callbacks free them. */
  weft_runtime_destroy(runtime);
  return status == WEFT_OK ? 0 : 1;
}
