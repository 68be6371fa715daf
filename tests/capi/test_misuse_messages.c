/* What a caller hears of the misuse made most often: a handle that is NULL,
 * forged, of another kind or no longer live, a loop run from its own
 * callback or with a bad mode, a timer with neither a callback nor a future,
 * a combinator given NULLs. The C API rejects these at the top of its
 * functions, without entering the core (capi/src/precheck.h); what the
 * caller sees must be exactly what the core's own checks say. This suite
 * pins it for every function that rejects early: the status returned, and
 * the function name and message the misuse handler gets (once).
 *
 * Runs on the test's thread, which is the fixture runtime's loop thread. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/capi/support.h"

static void noop(void* user, weft_status status, const char* message) {
  (void)user;
  (void)status;
  (void)message;
}

static void noop_bytes(void* user, weft_status status, const char* message, const void* bytes,
                       size_t len) {
  (void)user;
  (void)status;
  (void)message;
  (void)bytes;
  (void)len;
}

/* Checks that `got` is `status` and that the misuse handler heard of it once,
 * from `function`, with `message`; then clears the record. */
static void expect(misuse_record* m, const char* call, weft_status got, weft_status status,
                   const char* function, const char* message) {
  if (got != status || m->count != 1 || strcmp(m->last_function, function) != 0 ||
      strcmp(m->last_message, message) != 0) {
    fail_msg("%s: returned %s (expected %s); %d report(s), the last from %s: \"%s\" (expected %s: \"%s\")",
             call, weft_status_name(got), weft_status_name(status), m->count, m->last_function,
             m->last_message, function, message);
  }
  m->count = 0;
  m->last_function[0] = '\0';
  m->last_message[0] = '\0';
}

#define EXPECT(call, status, function, message) \
  expect(&m, #call, (call), (status), (function), (message))

/* The four ways a handle argument can be wrong, as the misuse handler words
 * them for a handle named `what` of C type `type`. */
typedef struct bad_handles {
  void* null;
  void* forged;      /* never handed out: not a weft handle */
  void* other_kind;  /* a live handle of another kind */
  void* stale;       /* one that was live, of the right kind */
} bad_handles;

static void message_for(char* out, size_t size, int which, const char* what, const char* type) {
  static const char* const endings[] = {"is NULL", "is not a weft handle",
                                        "is a handle of another kind", "was destroyed or released"};
  snprintf(out, size, "%s (%s) %s", what, type, endings[which]);
}

static void* pick(const bad_handles* h, int which) {
  switch (which) {
    case 0: return h->null;
    case 1: return h->forged;
    case 2: return h->other_kind;
    default: return h->stale;
  }
}

static void test_misuse_messages__bad_handles(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record m;
  misuse_recorder_install(&m);
  void* forged = (void*)(uintptr_t)0x12345;

  /* Handles that were live, of each kind. */
  weft_scope_t* scope = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "gone"), WEFT_OK);
  weft_loop_t* dead_loop = NULL;
  assert_int_equal(weft_scope_loop(&dead_loop, scope), WEFT_OK);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  weft_stream_t* a = NULL;
  weft_stream_t* b = NULL;
  assert_int_equal(weft_pipe_pair(&a, &b, f->loop), WEFT_OK);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
  weft_tcp_listener_t* tcp = NULL;
  assert_int_equal(weft_tcp_listen(&tcp, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(tcp), WEFT_OK);
  weft_udp_socket_t* udp = NULL;
  assert_int_equal(weft_udp_bind(&udp, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_close(udp), WEFT_OK);
  weft_future_t* timer = NULL;
  assert_int_equal(weft_loop_call_later(&timer, f->loop, 1000000000ull, noop, NULL), WEFT_OK);
  assert_int_equal(weft_future_cancel(timer), WEFT_OK);
  assert_int_equal(weft_future_release(timer), WEFT_OK);
  for (int i = 0; i < 5; ++i) assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(m.count, 0);

  const bad_handles loops = {NULL, forged, f->pool, dead_loop};
  const bad_handles streams = {NULL, forged, f->loop, a};
  const bad_handles tcp_listeners = {NULL, forged, f->loop, tcp};
  const bad_handles udp_sockets = {NULL, forged, f->loop, udp};
  const bad_handles scopes = {NULL, forged, f->loop, scope};
  const bad_handles futures = {NULL, forged, f->loop, timer};
  const bad_handles others = {NULL, forged, f->loop, NULL}; /* kinds with no stale one made */
  char text[160];
  char buffer[8];
  size_t n = 0;
  uint16_t port = 0;
  weft_address address;
  int pid = 0;

  for (int which = 0; which < 4; ++which) {
    const weft_status status = which == 3 ? WEFT_ERR_STALE_HANDLE : WEFT_ERR_INVALID_HANDLE;

    void* s = pick(&streams, which);
    message_for(text, sizeof text, which, "stream", "weft_stream_t");
    EXPECT(weft_stream_read(NULL, s, 16, noop_bytes, NULL), status, "weft_stream_read", text);
    EXPECT(weft_stream_read_exactly(NULL, s, 4, noop_bytes, NULL), status, "weft_stream_read_exactly", text);
    EXPECT(weft_stream_read_until(NULL, s, "\n", 1, 16, noop_bytes, NULL), status, "weft_stream_read_until",
           text);
    EXPECT(weft_stream_write(NULL, s, "x", 1, noop, NULL), status, "weft_stream_write", text);
    EXPECT(weft_stream_drain(NULL, s, noop, NULL), status, "weft_stream_drain", text);
    EXPECT(weft_stream_shutdown(NULL, s, noop, NULL), status, "weft_stream_shutdown", text);
    EXPECT(weft_stream_write_buffered(&n, s), status, "weft_stream_write_buffered", text);
    EXPECT(weft_stream_read_buffered(&n, s), status, "weft_stream_read_buffered", text);
    EXPECT(weft_stream_set_limits(s, NULL), status, "weft_stream_set_limits", text);
    if (which != 0) EXPECT(weft_stream_close(s), status, "weft_stream_close", text); /* NULL: a no-op */

    void* l = pick(&loops, which);
    {
      message_for(text, sizeof text, which, "loop", "weft_loop_t");
      EXPECT(weft_loop_run(l, WEFT_RUN_NOWAIT), status, "weft_loop_run", text);
      EXPECT(weft_loop_call_later(NULL, l, 1, noop, NULL), status, "weft_loop_call_later", text);
      EXPECT(weft_loop_call_soon(l, noop, NULL), status, "weft_loop_call_soon", text);
      EXPECT(weft_tcp_listen(&tcp, l, "127.0.0.1", 0, NULL), status, "weft_tcp_listen", text);
      EXPECT(weft_tcp_connect(NULL, l, "127.0.0.1", 1, 0, NULL, NULL), status, "weft_tcp_connect", text);
      EXPECT(weft_udp_bind(&udp, l, "127.0.0.1", 0, NULL), status, "weft_udp_bind", text);
      EXPECT(weft_pipe_pair(&a, &b, l), status, "weft_pipe_pair", text);
      EXPECT(weft_pipe_open(&a, l, 0), status, "weft_pipe_open", text);
      EXPECT(weft_pipe_listen(NULL, l, "x", NULL), status, "weft_pipe_listen", text);
      EXPECT(weft_pipe_connect(NULL, l, "x", 0, NULL, NULL), status, "weft_pipe_connect", text);
      EXPECT(weft_file_open(NULL, l, "x", WEFT_FILE_READ, NULL, NULL, NULL), status, "weft_file_open", text);
      EXPECT(weft_file_read_all(NULL, l, "x", NULL, noop_bytes, NULL), status, "weft_file_read_all", text);
      EXPECT(weft_file_write_all(NULL, l, "x", "y", 1, NULL, noop, NULL), status, "weft_file_write_all",
             text);
      EXPECT(weft_signal_watch(NULL, l, 10), status, "weft_signal_watch", text);
      EXPECT(weft_resolve(NULL, l, "127.0.0.1", 1, NULL, NULL, NULL), status, "weft_resolve", text);
      weft_future_t* out = NULL;
      EXPECT(weft_future_all(&out, l, NULL, 0), status, "weft_future_all", text);
    }

    void* t = pick(&tcp_listeners, which);
    message_for(text, sizeof text, which, "listener", "weft_tcp_listener_t");
    EXPECT(weft_tcp_accept(NULL, t, NULL, NULL), status, "weft_tcp_accept", text);
    EXPECT(weft_tcp_listener_port(&port, t), status, "weft_tcp_listener_port", text);

    void* u = pick(&udp_sockets, which);
    message_for(text, sizeof text, which, "socket", "weft_udp_socket_t");
    EXPECT(weft_udp_recv_from(NULL, u, NULL, NULL), status, "weft_udp_recv_from", text);
    EXPECT(weft_udp_local_address(&address, u), status, "weft_udp_local_address", text);
    EXPECT(weft_udp_send_to(NULL, u, "x", 1, "127.0.0.1", 9, NULL, NULL), status, "weft_udp_send_to", text);

    void* sc = pick(&scopes, which);
    message_for(text, sizeof text, which, "scope", "weft_scope_t");
    EXPECT(weft_scope_cancel(sc), status, "weft_scope_cancel", text);
    EXPECT(weft_scope_drain(&n, sc, 0), status, "weft_scope_drain", text);
    if (which != 0) EXPECT(weft_scope_destroy(sc), status, "weft_scope_destroy", text); /* NULL: a no-op */

    void* fu = pick(&futures, which);
    message_for(text, sizeof text, which, "future", "weft_future_t");
    weft_status fs;
    weft_value fv;
    const char* fm;
    weft_value one = weft_value_int64(1);
    EXPECT(weft_future_cancel(fu), status, "weft_future_cancel", text);
    EXPECT(weft_future_result(&fs, &fv, &fm, fu), status, "weft_future_result", text);
    EXPECT(weft_future_resolve(fu, &one), status, "weft_future_resolve", text);
    EXPECT(weft_future_reject(fu, WEFT_ERR_TIMED_OUT, "x"), status, "weft_future_reject", text);
    EXPECT(weft_future_then(fu, f->loop, NULL, NULL), status, "weft_future_then", text);
    EXPECT(weft_future_retain(fu), status, "weft_future_retain", text);
    EXPECT(weft_future_set_name(fu, "x"), status, "weft_future_set_name", text);
    if (which != 0) EXPECT(weft_future_release(fu), status, "weft_future_release", text); /* NULL: a no-op */
    weft_future_t* inputs[2] = {timer, fu};
    weft_future_t* out = NULL;
    if (which != 3) { /* the first input: the stale timer */
      inputs[0] = fu;
    }
    message_for(text, sizeof text, which, "futures[i]", "weft_future_t");
    EXPECT(weft_future_any(&out, f->loop, inputs, 2), status, "weft_future_any", text);
    EXPECT(weft_future_with_timeout(&out, f->loop, fu, 1), status, "weft_future_with_timeout", text);

    if (which == 3) continue; /* no stale handle of the kinds below */
    void* o = pick(&others, which);
    message_for(text, sizeof text, which, "listener", "weft_pipe_listener_t");
    EXPECT(weft_pipe_accept(NULL, o, NULL, NULL), status, "weft_pipe_accept", text);
    EXPECT(weft_pipe_listener_path(buffer, sizeof buffer, &n, o), status, "weft_pipe_listener_path", text);
    message_for(text, sizeof text, which, "file", "weft_file_t");
    EXPECT(weft_file_read_at(NULL, o, 0, 8, noop_bytes, NULL), status, "weft_file_read_at", text);
    EXPECT(weft_file_write_at(NULL, o, 0, "x", 1, NULL, NULL), status, "weft_file_write_at", text);
    EXPECT(weft_file_size(NULL, o, NULL, NULL), status, "weft_file_size", text);
    EXPECT(weft_file_sync(NULL, o, noop, NULL), status, "weft_file_sync", text);
    message_for(text, sizeof text, which, "signal", "weft_signal_t");
    EXPECT(weft_signal_wait(NULL, o, NULL, NULL), status, "weft_signal_wait", text);
    message_for(text, sizeof text, which, "process", "weft_process_t");
    EXPECT(weft_process_pid(&pid, o), status, "weft_process_pid", text);
    EXPECT(weft_process_stdin(&a, o), status, "weft_process_stdin", text);
    EXPECT(weft_process_stdout(&a, o), status, "weft_process_stdout", text);
    EXPECT(weft_process_stderr(&a, o), status, "weft_process_stderr", text);
    EXPECT(weft_process_kill(o, 0), status, "weft_process_kill", text);
    EXPECT(weft_process_wait(NULL, o, NULL, NULL), status, "weft_process_wait", text);
  }

  misuse_recorder_remove();
}

typedef struct inside {
  misuse_record* m;
  weft_loop_t* loop;
  weft_status status;
  int ran;
} inside;

static void run_from_inside(void* user, weft_status status, const char* message) {
  (void)status;
  (void)message;
  inside* in = user;
  in->status = weft_loop_run(in->loop, WEFT_RUN_NOWAIT);
  in->ran = 1;
}

static void test_misuse_messages__loop_and_timer_arguments(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record m;
  misuse_recorder_install(&m);

  inside in = {&m, f->loop, WEFT_OK, 0};
  assert_int_equal(weft_loop_call_soon(f->loop, run_from_inside, &in), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_true(in.ran);
  expect(&m, "weft_loop_run from its own callback", in.status, WEFT_ERR_REENTRANT_RUN, "weft_loop_run",
         "the loop cannot run from inside one of its callbacks");

  EXPECT(weft_loop_run(f->loop, (weft_run_mode)9), WEFT_ERR_INVALID_ARGUMENT, "weft_loop_run",
         "mode 9 is not a weft_run_mode");
  EXPECT(weft_loop_run(f->loop, (weft_run_mode)-1), WEFT_ERR_INVALID_ARGUMENT, "weft_loop_run",
         "mode -1 is not a weft_run_mode");
  EXPECT(weft_loop_call_later(NULL, f->loop, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT, "weft_loop_call_later",
         "callback and out are both NULL");
  EXPECT(weft_loop_call_at(NULL, f->loop, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT, "weft_loop_call_at",
         "callback and out are both NULL");

  weft_future_t* future = NULL;
  assert_int_equal(weft_future_create(&future, f->loop), WEFT_OK);
  weft_future_t* inputs[2] = {future, NULL};
  weft_future_t* out = NULL;
  EXPECT(weft_future_all(NULL, f->loop, inputs, 1), WEFT_ERR_INVALID_ARGUMENT, "weft_future_all", "out is NULL");
  EXPECT(weft_future_all(&out, f->loop, NULL, 2), WEFT_ERR_INVALID_ARGUMENT, "weft_future_all",
         "futures is NULL with a non-zero count");
  EXPECT(weft_future_any(&out, f->loop, inputs, 0), WEFT_ERR_INVALID_ARGUMENT, "weft_future_any",
         "needs at least one future"); /* the function name is not repeated */
  EXPECT(weft_future_all(&out, f->loop, inputs, 2), WEFT_ERR_INVALID_HANDLE, "weft_future_all",
         "futures[i] (weft_future_t) is NULL");
  assert_null(out);
  assert_int_equal(weft_future_release(future), WEFT_OK);
  misuse_recorder_remove();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_misuse_messages__bad_handles, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_misuse_messages__loop_and_timer_arguments, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
