/* Counters, the error handler, dumps; many pending futures counted and cancelled. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/capi/support.h"

typedef struct events {
  int count;
  weft_event_kind kind;
  weft_status status;
  char message[256];
  char scope[64];
  uint64_t duration_ns;
} events;

static void on_event(void* user, const weft_event* event) {
  events* e = user;
  e->count++;
  e->kind = event->kind;
  e->status = event->status;
  snprintf(e->message, sizeof(e->message), "%s", event->message);
  snprintf(e->scope, sizeof(e->scope), "%s", event->scope ? event->scope : "");
  e->duration_ns = event->duration_ns;
}

static void test_diagnostics__stats_count_what_happened(void** state) {
  fixture* f = FIXTURE(state);
  weft_stats s = WEFT_STATS_INIT;
  assert_int_equal(weft_runtime_stats(&s, f->runtime), WEFT_OK);
  assert_int_equal(s.scopes, 1);
  assert_int_equal(s.executors, 1);
  assert_int_equal(s.futures_alive, 0);
  call_record r = {0};
  weft_loop_call_soon(f->loop, record_callback, &r);
  weft_loop_call_later(NULL, f->loop, 5, record_callback, &r);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  assert_int_equal(weft_runtime_stats(&s, f->runtime), WEFT_OK);
  assert_int_equal(s.ready, 1);
  assert_int_equal(s.timers_pending, 1);
  assert_int_equal(s.futures_alive, 1);
  assert_int_equal(s.futures_pending, 1);
  assert_int_equal(s.futures_created, 1);
  assert_true(s.bytes_allocated > 0);
  weft_loop_advance_clock(f->loop, 5);
  weft_loop_run(f->loop, WEFT_RUN_DEFAULT);
  weft_future_resolve(fut, NULL);
  weft_future_release(fut);
  weft_loop_run(f->loop, WEFT_RUN_DEFAULT);
  assert_int_equal(weft_runtime_stats(&s, f->runtime), WEFT_OK);
  assert_true(s.callbacks_run >= 3);
  assert_int_equal(s.timers_fired, 1);
  assert_int_equal(s.futures_alive, 0);
  assert_int_equal(s.futures_pending, 0);
  /* Below the first published size: refused. A larger struct from newer
   * headers: filled as far as this library knows, its tail left alone. */
  s.struct_size = 16;
  assert_int_equal(weft_runtime_stats(&s, f->runtime), WEFT_ERR_INVALID_ARGUMENT);
  struct {
    weft_stats known;
    uint64_t newer_field;
  } newer;
  memset(&newer, 0xAB, sizeof(newer));
  newer.known.struct_size = sizeof(newer);
  assert_int_equal(weft_runtime_stats(&newer.known, f->runtime), WEFT_OK);
  assert_int_equal(newer.known.struct_size, sizeof(newer));
  assert_int_equal(newer.known.scopes, 1);
  assert_true(newer.newer_field == 0xABABABABABABABABull);
  assert_int_equal(weft_runtime_stats(NULL, f->runtime), WEFT_ERR_INVALID_ARGUMENT);
}

static void test_diagnostics__an_unobserved_failure_is_reported(void** state) {
  fixture* f = FIXTURE(state);
  events e = {0};
  assert_int_equal(weft_runtime_set_error_handler(f->runtime, on_event, &e), WEFT_OK);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  weft_future_set_name(fut, "config-load");
  weft_future_reject(fut, WEFT_ERR_TIMED_OUT, "nobody looked");
  weft_future_release(fut);
  weft_loop_run(f->loop, WEFT_RUN_DEFAULT);
  assert_int_equal(e.count, 1);
  assert_int_equal(e.kind, WEFT_EVENT_UNOBSERVED_FAILURE);
  assert_int_equal(e.status, WEFT_ERR_TIMED_OUT);
  assert_string_equal(e.message, "nobody looked");
  assert_string_equal(e.scope, "config-load");
  /* Observed failures are not reported. */
  weft_future_create(&fut, f->loop);
  weft_future_reject(fut, WEFT_ERR_TIMED_OUT, "seen");
  weft_future_result(NULL, NULL, NULL, fut);
  weft_future_release(fut);
  weft_loop_run(f->loop, WEFT_RUN_DEFAULT);
  assert_int_equal(e.count, 1);
  weft_stats s = WEFT_STATS_INIT;
  weft_runtime_stats(&s, f->runtime);
  assert_int_equal(s.errors_reported, 1);
}

static void sleep_3ms(void* user, weft_status status, const char* message) {
  (void)user;
  (void)status;
  (void)message;
  struct timespec t = {0, 3000000L};
  nanosleep(&t, NULL);
}

static void test_diagnostics__slow_callbacks_are_reported_in_debug_mode(void** state) {
  (void)state;
  tracking_allocator t;
  tracking_init(&t);
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.slow_callback_ns = 1000000; /* 1 ms */
  options.allocator = tracking_hooks(&t);
  weft_runtime_t* rt;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_OK);
  weft_loop_t* loop;
  weft_runtime_loop(&loop, rt);
  events e = {0};
  weft_runtime_set_error_handler(rt, on_event, &e);
  weft_loop_call_soon(loop, sleep_3ms, NULL);
  weft_loop_run(loop, WEFT_RUN_DEFAULT);
  assert_int_equal(e.count, 1);
  assert_int_equal(e.kind, WEFT_EVENT_SLOW_CALLBACK);
  assert_true(e.duration_ns >= 3000000);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  assert_int_equal(tracking_live_blocks(&t), 0);
}

static void collect_names(void* user, const weft_object_info* info) {
  char* out = user;
  char line[128];
  snprintf(line, sizeof(line), "%d:%s:%s:%s|", (int)info->kind, info->scope, info->name, info->state);
  strncat(out, line, 2047 - strlen(out));
}

static void test_diagnostics__the_dump_lists_live_objects(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope;
  weft_scope_create(&scope, f->runtime, "audio");
  weft_loop_t* loop;
  weft_scope_loop(&loop, scope);
  weft_future_t* fut;
  weft_future_create(&fut, loop);
  weft_future_set_name(fut, "decode");
  call_record r = {0};
  weft_loop_call_later(NULL, loop, 1000, record_callback, &r);
  static char text[2048];
  text[0] = '\0';
  assert_int_equal(weft_runtime_dump(f->runtime, collect_names, text), WEFT_OK);
  assert_non_null(strstr(text, "1:root:test-pool:default pool|"));
  assert_non_null(strstr(text, "0:root:root:open|"));
  assert_non_null(strstr(text, "0:audio:audio:open|"));
  assert_non_null(strstr(text, "2:audio:decode:pending|"));
  assert_non_null(strstr(text, "3:audio::pending|"));

  size_t length = 0;
  assert_int_equal(weft_runtime_dump_text(NULL, 0, &length, f->runtime), WEFT_OK);
  assert_true(length > 20);
  char small[16];
  size_t again = 0;
  assert_int_equal(weft_runtime_dump_text(small, sizeof(small), &again, f->runtime), WEFT_OK);
  assert_int_equal(again, length);
  assert_int_equal(strlen(small), sizeof(small) - 1);
  static char full[4096];
  assert_int_equal(weft_runtime_dump_text(full, sizeof(full), NULL, f->runtime), WEFT_OK);
  assert_int_equal(strlen(full), length);
  assert_non_null(strstr(full, "future \"decode\": pending"));
  assert_int_equal(weft_runtime_dump_text(NULL, 5, NULL, f->runtime), WEFT_ERR_INVALID_ARGUMENT);
  weft_future_release(fut);
  weft_scope_destroy(scope);
}

typedef struct outcomes {
  int values;
  int cancelled;
  int other;
} outcomes;

static void count_outcome(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                          const char* message) {
  outcomes* o = user;
  (void)future;
  (void)value;
  (void)message;
  if (status == WEFT_OK) {
    o->values++;
  } else if (status == WEFT_ERR_CANCELLED) {
    o->cancelled++;
  } else {
    o->other++;
  }
}

/* Many futures waiting at once: counted while pending, each callback called
 * exactly once, and those still pending cancelled by weft_runtime_destroy. */
static void test_diagnostics__many_pending_futures_are_counted_and_cancelled(void** state) {
  fixture* f = FIXTURE(state);
  enum { kFutures = 3000 };
  static weft_future_t* futures[kFutures];
  outcomes o = {0};
  for (int i = 0; i < kFutures; ++i) {
    assert_int_equal(weft_future_create(&futures[i], f->loop), WEFT_OK);
    assert_int_equal(weft_future_then(futures[i], f->loop, count_outcome, &o), WEFT_OK);
  }
  weft_stats s = WEFT_STATS_INIT;
  assert_int_equal(weft_runtime_stats(&s, f->runtime), WEFT_OK);
  assert_int_equal(s.futures_pending, kFutures);
  int resolved = 0;
  for (int i = 0; i < kFutures; i += 3) {
    assert_int_equal(weft_future_resolve(futures[i], NULL), WEFT_OK);
    resolved++;
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(o.values, resolved);
  assert_int_equal(o.cancelled, 0);
  assert_int_equal(weft_runtime_stats(&s, f->runtime), WEFT_OK);
  assert_int_equal(s.futures_pending, kFutures - resolved);
  for (int i = 0; i < kFutures; ++i) weft_future_release(futures[i]);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;  /* the teardown's destroy accepts NULL */
  assert_int_equal(o.values, resolved);
  assert_int_equal(o.cancelled, kFutures - resolved);
  assert_int_equal(o.other, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_diagnostics__stats_count_what_happened, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_diagnostics__an_unobserved_failure_is_reported, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test(test_diagnostics__slow_callbacks_are_reported_in_debug_mode),
      cmocka_unit_test_setup_teardown(test_diagnostics__the_dump_lists_live_objects, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_diagnostics__many_pending_futures_are_counted_and_cancelled,
                                      fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
