/* The sweep's other I/O scenarios (alloc_failure.h): fd watches, UDP, files,
 * DNS (numeric and localhost only), processes and signals. Files go under
 * $TEST_TMPDIR. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/capi/alloc_failure.h"

/* ---- recorders ---------------------------------------------------------- */

typedef struct udp_record {
  int calls;
  weft_status status;
  char bytes[64];
  size_t len;
} udp_record;

static void record_udp(void* user, weft_status status, const char* message, const void* bytes, size_t len,
                       const weft_address* from, int truncated) {
  (void)from;
  (void)truncated;
  udp_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, NULL, 0);
  if (len > sizeof r->bytes) len = sizeof r->bytes;
  if (len > 0) memcpy(r->bytes, bytes, len);
  r->len = len;
}

typedef struct count_record {
  int calls;
  weft_status status;
} count_record;

static void record_resolve(void* user, weft_status status, const char* message, const weft_address* addresses,
                           size_t count) {
  count_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, NULL, 0);
  if (status == WEFT_OK) {
    assert_non_null(addresses);
    assert_true(count > 0);
  }
}

static void record_wait(void* user, weft_status status, const char* message, int64_t code, int term_signal) {
  (void)code;
  (void)term_signal;
  count_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, NULL, 0);
}

static void record_signal(void* user, weft_status status, const char* message, int signum) {
  (void)signum;
  count_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, NULL, 0);
}

static void record_file(void* user, weft_status status, const char* message, weft_file_t* file) {
  stream_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->stream = (weft_stream_t*)file;
}

static void record_size(void* user, weft_status status, const char* message, uint64_t size) {
  (void)size;
  count_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, NULL, 0);
}

/* ---- fd watches ------------------------------------------------------------ */

static void record_fd(void* user, weft_status status, const char* message, int events) {
  count_record* r = user;
  (void)events;
  r->calls++;
  r->status = status;
  check_message(status, message, NULL, 0);
}

static void fd_watch_scenario(fixture* f) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  weft_fd_watch_t* watch = NULL;
  count_record ready = {0};
  arm(f);
  weft_status watching = weft_fd_watch(&watch, f->loop, fds[0]);
  check_call_status(watching);
  weft_status waiting = WEFT_ERR_NO_MEMORY;
  if (watching == WEFT_OK) {
    waiting = weft_fd_wait(NULL, watch, WEFT_FD_READABLE, record_fd, &ready);
    check_call_status(waiting);
  }
  disarm(f);
  if (watching == WEFT_OK) {
    /* A refused wait left no wait pending: a new one may start. */
    if (waiting != WEFT_OK)
      assert_int_equal(weft_fd_wait(NULL, watch, WEFT_FD_READABLE, record_fd, &ready), WEFT_OK);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_true(run_until(f->loop, &ready.calls));
    assert_int_equal(ready.calls, 1);
    assert_int_equal(ready.status, WEFT_OK);
    assert_int_equal(weft_fd_watch_close(watch), WEFT_OK);
  } else {
    assert_null(watch);
  }
  close(fds[0]);
  close(fds[1]);
}

void test_alloc_failure__fd_watch(void** state) {
  (void)state;
  sweep(fd_watch_scenario);
}

/* ---- UDP ----------------------------------------------------------------- */

static void udp_pair(fixture* f, weft_udp_socket_t** sender, weft_udp_socket_t** receiver, uint16_t* port) {
  assert_int_equal(weft_udp_bind(sender, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_bind(receiver, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  weft_address address;
  assert_int_equal(weft_udp_local_address(&address, *receiver), WEFT_OK);
  *port = address.port;
}

static void udp_receive(fixture* f, weft_udp_socket_t* socket, udp_record* r) {
  memset(r, 0, sizeof *r);
  assert_int_equal(weft_udp_recv_from(NULL, socket, record_udp, r), WEFT_OK);
  assert_true(run_until(f->loop, &r->calls));
  assert_int_equal(r->status, WEFT_OK);
}

static void udp_send_scenario(fixture* f) {
  weft_udp_socket_t *sender, *receiver;
  uint16_t port;
  udp_pair(f, &sender, &receiver, &port);
  call_record sent = {0};
  arm(f);
  weft_status status = weft_udp_send_to(NULL, sender, "hello", 5, "127.0.0.1", port, record_callback, &sent);
  check_call_status(status);
  check_promised(f, status, &sent.calls);
  disarm(f);
  assert_int_equal(weft_udp_send_to(NULL, sender, "!", 1, "127.0.0.1", port, NULL, NULL), WEFT_OK);
  udp_record got;
  udp_receive(f, receiver, &got);
  if (status == WEFT_OK) {
    assert_int_equal(got.len, 5);
    udp_receive(f, receiver, &got);
  }
  /* After a refused send, the first datagram is the next one. */
  assert_int_equal(got.len, 1);
  assert_memory_equal(got.bytes, "!", 1);
  assert_int_equal(weft_udp_close(sender), WEFT_OK);
  assert_int_equal(weft_udp_close(receiver), WEFT_OK);
}

static void udp_recv_scenario(fixture* f) {
  weft_udp_socket_t *sender, *receiver;
  uint16_t port;
  udp_pair(f, &sender, &receiver, &port);
  assert_int_equal(weft_udp_send_to(NULL, sender, "d1", 2, "127.0.0.1", port, NULL, NULL), WEFT_OK);
  spin_loop(f->loop, 3);
  udp_record got = {0};
  arm(f);
  weft_status status = weft_udp_recv_from(NULL, receiver, record_udp, &got);
  check_call_status(status);
  check_promised(f, status, &got.calls);
  disarm(f);
  if (status != WEFT_OK) udp_receive(f, receiver, &got); /* still there */
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.len, 2);
  assert_memory_equal(got.bytes, "d1", 2);
  assert_int_equal(weft_udp_close(sender), WEFT_OK);
  assert_int_equal(weft_udp_close(receiver), WEFT_OK);
}

static void udp_bind_scenario(fixture* f) {
  weft_udp_socket_t* socket = NULL;
  arm(f);
  weft_status status = weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, NULL);
  disarm(f);
  check_call_status(status);
  if (status == WEFT_OK) {
    assert_int_equal(weft_udp_close(socket), WEFT_OK);
  } else {
    assert_null(socket);
  }
}

void test_alloc_failure__udp(void** state) {
  (void)state;
  sweep(udp_bind_scenario);
  sweep(udp_send_scenario);
  sweep(udp_recv_scenario);
}

/* ---- files ---------------------------------------------------------------- */

static char g_file_path[512];

static void file_reset(const char* text) {
  FILE* file = fopen(g_file_path, "wb");
  assert_non_null(file);
  fputs(text, file);
  fclose(file);
}

static void file_expect(const char* text) {
  char buffer[64] = {0};
  FILE* file = fopen(g_file_path, "rb");
  assert_non_null(file);
  size_t n = fread(buffer, 1, sizeof buffer - 1, file);
  fclose(file);
  assert_int_equal(n, strlen(text));
  assert_memory_equal(buffer, text, n);
}

static void file_write_all_scenario(fixture* f) {
  file_reset("original");
  call_record written = {0};
  arm(f);
  weft_status status = weft_file_write_all(NULL, f->loop, g_file_path, "replaced", 8, NULL, record_callback,
                                           &written);
  check_call_status(status);
  check_promised(f, status, &written.calls);
  disarm(f);
  if (status == WEFT_OK && written.status == WEFT_OK) {
    file_expect("replaced");
  } else {
    if (status == WEFT_OK) assert_int_equal(written.status, WEFT_ERR_NO_MEMORY);
    file_expect("original"); /* refused: the file was not touched */
  }
}

static void file_ops_scenario(fixture* f) {
  file_reset("original");
  stream_record opened = {0};
  arm(f);
  weft_status status =
      weft_file_open(NULL, f->loop, g_file_path, WEFT_FILE_READ | WEFT_FILE_WRITE, NULL, record_file, &opened);
  check_call_status(status);
  check_promised(f, status, &opened.calls);
  disarm(f);
  if (status != WEFT_OK) return;
  /* Once started, an open needs no more memory to deliver its file. */
  assert_int_equal(opened.status, WEFT_OK);
  weft_file_t* file = (weft_file_t*)opened.stream;
  count_record wrote = {0};
  arm(f);
  weft_status writing = weft_file_write_at(NULL, file, 0, "O", 1, record_size, &wrote);
  check_call_status(writing);
  check_promised(f, writing, &wrote.calls);
  disarm(f);
  file_expect(writing == WEFT_OK ? "Original" : "original");
  read_record got = {0};
  arm(f);
  weft_status reading = weft_file_read_at(NULL, file, 1, 3, record_read, &got);
  check_call_status(reading);
  check_promised(f, reading, &got.calls);
  disarm(f);
  if (reading == WEFT_OK) {
    assert_int_equal(got.status, WEFT_OK);
    assert_memory_equal(got.bytes, "rig", 3);
  }
  call_record synced = {0};
  count_record sized = {0};
  arm(f);
  weft_status syncing = weft_file_sync(NULL, file, record_callback, &synced);
  check_call_status(syncing);
  check_promised(f, syncing, &synced.calls);
  weft_status sizing = weft_file_size(NULL, file, record_size, &sized);
  check_call_status(sizing);
  check_promised(f, sizing, &sized.calls);
  disarm(f);
  assert_int_equal(weft_file_close(file), WEFT_OK);
}

void test_alloc_failure__file(void** state) {
  (void)state;
  const char* base = getenv("TEST_TMPDIR");
  snprintf(g_file_path, sizeof g_file_path, "%s/alloc_failure_file", base != NULL ? base : "/tmp");
  sweep(file_write_all_scenario);
  sweep(file_ops_scenario);
  remove(g_file_path);
}

/* ---- DNS (numeric and localhost only) ------------------------------------ */

static const char* g_host;

static void resolve_scenario(fixture* f) {
  count_record found = {0};
  arm(f);
  weft_status status = weft_resolve(NULL, f->loop, g_host, 80, NULL, record_resolve, &found);
  check_call_status(status);
  check_promised(f, status, &found.calls);
  disarm(f);
  if (status == WEFT_OK && found.status != WEFT_OK) assert_int_equal(found.status, WEFT_ERR_NO_MEMORY);
}

void test_alloc_failure__dns(void** state) {
  (void)state;
  g_host = "127.0.0.1";
  sweep(resolve_scenario);
  g_host = "localhost";
  sweep(resolve_scenario);
}

/* ---- processes and signals ----------------------------------------------- */

static void process_scenario(fixture* f) {
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  const char* args[] = {"true", NULL};
  options.file = "/bin/true";
  options.args = args;
  weft_process_t* process = NULL;
  arm(f);
  weft_status spawned = weft_process_spawn(&process, f->loop, &options);
  check_call_status(spawned);
  count_record exited = {0};
  weft_status waiting = WEFT_ERR_NO_MEMORY;
  if (spawned == WEFT_OK) {
    waiting = weft_process_wait(NULL, process, record_wait, &exited);
    check_call_status(waiting);
    check_promised(f, waiting, &exited.calls);
  }
  disarm(f);
  if (spawned != WEFT_OK) {
    assert_null(process);
    return;
  }
  if (waiting != WEFT_OK) {
    /* The exit was not taken by the refused wait. */
    assert_int_equal(weft_process_wait(NULL, process, record_wait, &exited), WEFT_OK);
    assert_true(run_until(f->loop, &exited.calls));
  }
  assert_int_equal(exited.status, WEFT_OK);
  assert_int_equal(weft_process_close(process), WEFT_OK);
}

static void signal_scenario(fixture* f) {
  weft_signal_t* watch = NULL;
  count_record caught = {0};
  arm(f);
  weft_status watching = weft_signal_watch(&watch, f->loop, SIGUSR2);
  check_call_status(watching);
  weft_status waiting = WEFT_ERR_NO_MEMORY;
  if (watching == WEFT_OK) {
    waiting = weft_signal_wait(NULL, watch, record_signal, &caught);
    check_call_status(waiting);
  }
  disarm(f);
  if (watching != WEFT_OK) {
    assert_null(watch);
    return;
  }
  if (waiting != WEFT_OK) assert_int_equal(weft_signal_wait(NULL, watch, record_signal, &caught), WEFT_OK);
  raise(SIGUSR2);
  assert_true(run_until(f->loop, &caught.calls));
  assert_int_equal(caught.calls, 1);
  assert_int_equal(caught.status, WEFT_OK);
  assert_int_equal(weft_signal_close(watch), WEFT_OK);
}

void test_alloc_failure__process(void** state) {
  (void)state;
  sweep(process_scenario);
}

void test_alloc_failure__signal(void** state) {
  (void)state;
  sweep(signal_scenario);
}
