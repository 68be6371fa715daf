/* An operation that produces a result (a handle, bytes, a value) refuses to
 * start when it has no way to deliver it (out and callback both NULL), and
 * starts nothing: the bytes, the connection, the datagram stay for the next
 * operation. Writes, sends, shutdowns, drains and syncs may be
 * fire-and-forget. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/support.h"

static void test_op_observer__reads_without_observer_are_refused_and_take_nothing(void** state) {
  fixture* f = *state;
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  weft_stream_t *a = NULL, *b = NULL;
  stream_pair_open(f, &a, &b);
  /* Fire-and-forget write: accepted. */
  assert_int_equal(weft_stream_write(NULL, a, "line\n", 5, NULL, NULL), WEFT_OK);
  spin_loop(f->loop, 3);
  assert_int_equal(weft_stream_read(NULL, b, 64, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_exactly(NULL, b, 2, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 64, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(misuse.count, 3);
  assert_non_null(strstr(misuse.last_message, "NULL"));
  misuse_recorder_remove();
  /* Nothing was taken: the whole line is still there. */
  read_record line = {0};
  assert_int_equal(weft_stream_read_until(NULL, b, "\n", 1, 64, record_read, &line), WEFT_OK);
  assert_true(run_until(f->loop, &line.calls));
  assert_int_equal(line.status, WEFT_OK);
  assert_int_equal(line.len, 5);
  assert_memory_equal(line.bytes, "line\n", 5);
  /* Fire-and-forget shutdown and drain: accepted. */
  assert_int_equal(weft_stream_drain(NULL, a, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_shutdown(NULL, a, NULL, NULL), WEFT_OK);
  spin_loop(f->loop, 3);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

static void test_op_observer__accepts_and_connects_without_observer_are_refused(void** state) {
  fixture* f = *state;
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  assert_int_equal(weft_tcp_accept(NULL, listener, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, 0, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  /* The refused accept took nothing: the next connection goes to the next
   * accept. */
  weft_stream_t *client = NULL, *server = NULL;
  tcp_connect_pair(f, listener, port, &client, &server);
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);

  char path[64];
  snprintf(path, sizeof path, "/tmp/weft-observer-%d.sock", (int)getpid());
  unlink(path);
  weft_pipe_listener_t* pipe_listener = NULL;
  assert_int_equal(weft_pipe_listen(&pipe_listener, f->loop, path, NULL), WEFT_OK);
  assert_int_equal(weft_pipe_accept(NULL, pipe_listener, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_connect(NULL, f->loop, path, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_pipe_listener_close(pipe_listener), WEFT_OK);
}

typedef struct datagram_record {
  int calls;
  weft_status status;
  char bytes[16];
  size_t len;
} datagram_record;

static void record_datagram(void* user, weft_status status, const char* message, const void* bytes,
                            size_t len, const weft_address* from, int truncated) {
  (void)from;
  (void)truncated;
  datagram_record* r = user;
  char copy[64];
  check_message(status, message, copy, sizeof copy);
  r->calls++;
  r->status = status;
  r->len = len < sizeof r->bytes ? len : sizeof r->bytes;
  if (r->len > 0) memcpy(r->bytes, bytes, r->len);
}

static void test_op_observer__udp_receive_without_observer_is_refused(void** state) {
  fixture* f = *state;
  weft_udp_socket_t* socket = NULL;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  weft_address local;
  assert_int_equal(weft_udp_local_address(&local, socket), WEFT_OK);
  assert_int_equal(weft_udp_recv_from(NULL, socket, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  /* Fire-and-forget send: accepted; the datagram waits for a real receive. */
  assert_int_equal(weft_udp_send_to(NULL, socket, "ping", 4, "127.0.0.1", local.port, NULL, NULL), WEFT_OK);
  datagram_record got = {0};
  assert_int_equal(weft_udp_recv_from(NULL, socket, record_datagram, &got), WEFT_OK);
  assert_true(run_until(f->loop, &got.calls));
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.len, 4);
  assert_memory_equal(got.bytes, "ping", 4);
  assert_int_equal(weft_udp_close(socket), WEFT_OK);
}

static void test_op_observer__lookups_files_waits_without_observer_are_refused(void** state) {
  fixture* f = *state;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, NULL, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_open(NULL, f->loop, "/etc/hostname", WEFT_FILE_READ, NULL, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_read_all(NULL, f->loop, "/etc/hostname", NULL, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);

  weft_future_t* opened = NULL;
  assert_int_equal(weft_file_open(&opened, f->loop, "/etc/hostname", WEFT_FILE_READ, NULL, NULL, NULL),
                   WEFT_OK);
  int done = 0;
  while (!done) {
    weft_status status = WEFT_OK;
    if (weft_future_result(&status, NULL, NULL, opened) == WEFT_OK) {
      assert_int_equal(status, WEFT_OK);
      done = 1;
    } else {
      assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_ONCE), WEFT_OK);
    }
  }
  weft_value value;
  assert_int_equal(weft_future_result(NULL, &value, NULL, opened), WEFT_OK);
  void* pointer = NULL;
  assert_int_equal(weft_value_get_pointer(&pointer, &value), WEFT_OK);
  weft_file_t* file = pointer;
  assert_int_equal(weft_file_read_at(NULL, file, 0, 16, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_size(NULL, file, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_file_sync(NULL, file, NULL, NULL), WEFT_OK); /* fire-and-forget */
  spin_loop(f->loop, 3);
  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(weft_future_release(opened), WEFT_OK);

  weft_signal_t* watch = NULL;
  assert_int_equal(weft_signal_watch(&watch, f->loop, SIGUSR2), WEFT_OK);
  assert_int_equal(weft_signal_wait(NULL, watch, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_signal_close(watch), WEFT_OK);

  const char* const args[] = {"true", NULL};
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.file = "true";
  options.args = args;
  options.stdin_mode = WEFT_STDIO_NULL;
  options.stdout_mode = WEFT_STDIO_NULL;
  weft_process_t* child = NULL;
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_OK);
  assert_int_equal(weft_process_wait(NULL, child, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  weft_future_t* exited = NULL;
  assert_int_equal(weft_process_wait(&exited, child, NULL, NULL), WEFT_OK);
  int finished = 0;
  while (!finished) {
    weft_status status = WEFT_OK;
    if (weft_future_result(&status, NULL, NULL, exited) == WEFT_OK) {
      assert_int_equal(status, WEFT_OK);
      finished = 1;
    } else {
      assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_ONCE), WEFT_OK);
    }
  }
  assert_int_equal(weft_future_release(exited), WEFT_OK);
  assert_int_equal(weft_process_close(child), WEFT_OK);
  assert_int_equal(weft_loop_call_later(NULL, f->loop, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_op_observer__reads_without_observer_are_refused_and_take_nothing,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_observer__accepts_and_connects_without_observer_are_refused,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_observer__udp_receive_without_observer_is_refused,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_observer__lookups_files_waits_without_observer_are_refused,
                                      fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
