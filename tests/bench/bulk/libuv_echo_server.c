/* Raw libuv's echo server for W11's bulk variants: the baseline weft is held
 * to, written directly on libuv the way a libuv user would (the same shape as
 * tests/bench/libuv_io_workloads.cc, in a process of its own).
 *
 *   libuv_echo_server [--port N]     (N = 0, the default: the kernel chooses)
 *
 * Prints "echo server listening on 127.0.0.1:PORT" and serves until SIGINT or
 * SIGTERM (then closes every handle, runs the loop dry and exits 0). One
 * thread, one loop. Each client owns a 64 KiB read buffer (libuv's suggested
 * size); what it reads it writes back with uv_try_write, and copies only what
 * the kernel did not take into a uv_write request, which frees it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct client {
  uv_tcp_t tcp;
  struct client* prev;
  struct client* next;
  char buffer[64 * 1024];
} client;

typedef struct write_request {
  uv_write_t request;
  char data[]; /* the bytes the kernel did not take at once */
} write_request;

static uv_tcp_t listener;
static uv_signal_t sigint_watch;
static uv_signal_t sigterm_watch;
static client* clients; /* every open client, to close them at the end */

static void free_client(uv_handle_t* handle) { free(handle->data); }

static void close_client(client* c) {
  if (c->prev != NULL) c->prev->next = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  if (clients == c) clients = c->next;
  uv_close((uv_handle_t*)&c->tcp, free_client);
}

static void on_written(uv_write_t* request, int status) {
  (void)status; /* a failed write shows as a failed read next */
  free(request);
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)suggested;
  client* c = handle->data;
  *buf = uv_buf_init(c->buffer, sizeof(c->buffer));
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  client* c = stream->data;
  if (nread < 0) {
    close_client(c);
    return;
  }
  if (nread == 0) return;
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  int sent = uv_try_write(stream, &out, 1);
  if (sent == nread) return;
  if (sent < 0 && sent != UV_EAGAIN) {
    close_client(c);
    return;
  }
  size_t done = sent < 0 ? 0 : (size_t)sent;
  write_request* request = malloc(sizeof(*request) + (size_t)nread - done);
  if (request == NULL) {
    close_client(c);
    return;
  }
  memcpy(request->data, buf->base + done, (size_t)nread - done);
  out = uv_buf_init(request->data, (unsigned)((size_t)nread - done));
  if (uv_write(&request->request, stream, &out, 1, on_written) != 0) {
    free(request);
    close_client(c);
  }
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  client* c = malloc(sizeof(*c));
  if (c == NULL) return;
  uv_tcp_init(server->loop, &c->tcp);
  c->tcp.data = c;
  c->prev = NULL;
  c->next = clients;
  if (clients != NULL) clients->prev = c;
  clients = c;
  if (uv_accept(server, (uv_stream_t*)&c->tcp) != 0) {
    close_client(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start((uv_stream_t*)&c->tcp, on_alloc, on_read) != 0) close_client(c);
}

static void on_stop_signal(uv_signal_t* watch, int signum) {
  (void)watch;
  (void)signum;
  printf("shutting down\n");
  fflush(stdout);
  uv_close((uv_handle_t*)&sigint_watch, NULL);
  uv_close((uv_handle_t*)&sigterm_watch, NULL);
  uv_close((uv_handle_t*)&listener, NULL);
  while (clients != NULL) close_client(clients);
}

int main(int argc, char** argv) {
  long port = 0;
  for (int i = 1; i < argc; ++i) {
    char* end = NULL;
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = strtol(argv[++i], &end, 10);
    }
    if (end == NULL || *end != '\0' || port < 0 || port > 65535) {
      fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t* loop = uv_default_loop();
  struct sockaddr_in address;
  uv_ip4_addr("127.0.0.1", (int)port, &address);
  int rc = uv_tcp_init(loop, &listener);
  if (rc == 0) rc = uv_tcp_bind(&listener, (const struct sockaddr*)&address, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t*)&listener, 511, on_connection);
  int length = sizeof(address);
  if (rc == 0) rc = uv_tcp_getsockname(&listener, (struct sockaddr*)&address, &length);
  if (rc == 0) rc = uv_signal_init(loop, &sigint_watch);
  if (rc == 0) rc = uv_signal_start(&sigint_watch, on_stop_signal, SIGINT);
  if (rc == 0) rc = uv_signal_init(loop, &sigterm_watch);
  if (rc == 0) rc = uv_signal_start(&sigterm_watch, on_stop_signal, SIGTERM);
  if (rc != 0) {
    fprintf(stderr, "libuv_echo_server: %s\n", uv_strerror(rc));
    return 1;
  }
  printf("echo server listening on 127.0.0.1:%u\n", (unsigned)ntohs(address.sin_port));
  fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT); /* until on_stop_signal closed every handle */
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
