/* DNS: names the machine knows without the network (localhost, numeric
 * addresses, the reserved .invalid TLD), family filters, the executor a
 * lookup runs on, bad input, and lookups ended by their scope or runtime
 * while pending (each callback exactly once). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv, nanosleep, clock_gettime */
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/capi/support.h"

#define MAX_SEEN 8

/* What a resolve callback saw (the first MAX_SEEN addresses). */
typedef struct resolve_record {
  int calls;
  weft_status status;
  size_t count;
  weft_address seen[MAX_SEEN];
  gate* open_on_call; /* opened by the callback, if set */
  char message[200];
} resolve_record;

static void record_resolve(void* user, weft_status status, const char* message,
                           const weft_address* addresses, size_t count) {
  resolve_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->count = count;
  if (status == WEFT_OK) {
    assert_non_null(addresses);
    assert_true(count > 0);
  } else {
    assert_null(addresses);
    assert_int_equal(count, 0);
  }
  for (size_t i = 0; i < count && i < MAX_SEEN; ++i) r->seen[i] = addresses[i];
  if (r->open_on_call != NULL) gate_open(r->open_on_call);
}

static void never_called_resolve(void* user, weft_status status, const char* message,
                                 const weft_address* addresses, size_t count) {
  (void)user;
  (void)status;
  (void)message;
  (void)addresses;
  (void)count;
  fail_msg("a callback of a failed call ran");
}

static int has_address(const resolve_record* r, const char* host) {
  for (size_t i = 0; i < r->count && i < MAX_SEEN; ++i) {
    if (strcmp(r->seen[i].host, host) == 0) return 1;
  }
  return 0;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs the loop for about `ms` milliseconds. */
static void run_for(weft_loop_t* loop, int ms) {
  const double end = now_seconds() + ms / 1000.0;
  while (now_seconds() < end) {
    assert_int_equal(weft_loop_run(loop, WEFT_RUN_NOWAIT), WEFT_OK);
    struct timespec pause = {0, 2 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
}

static void resolve_and_wait(fixture* f, const char* host, uint16_t port,
                             const weft_resolve_options* options, resolve_record* r) {
  assert_int_equal(weft_resolve(NULL, f->loop, host, port, options, record_resolve, r), WEFT_OK);
  assert_true(run_until(f->loop, &r->calls));
  assert_int_equal(r->calls, 1);
}

static void test_dns__localhost_resolves_to_loopback(void** state) {
  fixture* f = FIXTURE(state);
  resolve_record r = {0};
  resolve_and_wait(f, "localhost", 8080, NULL, &r);
  assert_int_equal(r.status, WEFT_OK);
  assert_true(has_address(&r, "127.0.0.1") || has_address(&r, "::1"));
  for (size_t i = 0; i < r.count && i < MAX_SEEN; ++i) {
    assert_int_equal(r.seen[i].port, 8080);
    if (r.seen[i].family == WEFT_ADDRESS_IPV4) {
      assert_string_equal(r.seen[i].host, "127.0.0.1");
    } else {
      assert_int_equal(r.seen[i].family, WEFT_ADDRESS_IPV6);
      assert_string_equal(r.seen[i].host, "::1");
    }
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(r.calls, 1);
}

static void test_dns__numeric_addresses_resolve_to_themselves(void** state) {
  fixture* f = FIXTURE(state);
  resolve_record v4 = {0}, v6 = {0};
  weft_resolve_options datagram = WEFT_RESOLVE_OPTIONS_INIT;
  datagram.socktype = WEFT_RESOLVE_DATAGRAM;
  resolve_and_wait(f, "127.0.0.1", 53, &datagram, &v4);
  assert_int_equal(v4.status, WEFT_OK);
  assert_int_equal(v4.count, 1);
  assert_int_equal(v4.seen[0].family, WEFT_ADDRESS_IPV4);
  assert_string_equal(v4.seen[0].host, "127.0.0.1");
  assert_int_equal(v4.seen[0].port, 53);
  resolve_and_wait(f, "::1", 443, NULL, &v6);
  assert_int_equal(v6.status, WEFT_OK);
  assert_int_equal(v6.count, 1);
  assert_int_equal(v6.seen[0].family, WEFT_ADDRESS_IPV6);
  assert_string_equal(v6.seen[0].host, "::1");
  assert_int_equal(v6.seen[0].port, 443);
  /* A resolved address is what the other functions take. */
  weft_udp_socket_t* socket = NULL;
  assert_int_equal(weft_udp_bind(&socket, f->loop, v4.seen[0].host, 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_close(socket), WEFT_OK);
}

static void test_dns__family_filter(void** state) {
  fixture* f = FIXTURE(state);
  weft_resolve_options v4_only = WEFT_RESOLVE_OPTIONS_INIT;
  v4_only.family = WEFT_RESOLVE_IPV4;
  weft_resolve_options v6_only = WEFT_RESOLVE_OPTIONS_INIT;
  v6_only.family = WEFT_RESOLVE_IPV6;

  resolve_record local_v4 = {0};
  resolve_and_wait(f, "localhost", 80, &v4_only, &local_v4);
  assert_int_equal(local_v4.status, WEFT_OK);
  assert_true(has_address(&local_v4, "127.0.0.1"));
  for (size_t i = 0; i < local_v4.count && i < MAX_SEEN; ++i) {
    assert_int_equal(local_v4.seen[i].family, WEFT_ADDRESS_IPV4);
  }
  /* Numeric addresses of the other family: none of the requested one. */
  resolve_record v4_as_v6 = {0}, v6_as_v4 = {0}, v6_as_v6 = {0};
  resolve_and_wait(f, "127.0.0.1", 80, &v6_only, &v4_as_v6);
  assert_int_equal(v4_as_v6.status, WEFT_ERR_HOST_NOT_FOUND);
  resolve_and_wait(f, "::1", 80, &v4_only, &v6_as_v4);
  assert_int_equal(v6_as_v4.status, WEFT_ERR_HOST_NOT_FOUND);
  resolve_and_wait(f, "::1", 80, &v6_only, &v6_as_v6);
  assert_int_equal(v6_as_v6.status, WEFT_OK);
  assert_int_equal(v6_as_v6.count, 1);
  assert_string_equal(v6_as_v6.seen[0].host, "::1");
}

/* .invalid is reserved (RFC 6761): no name under it exists. main() bounds
 * the system resolver's wait (RES_OPTIONS) so that even a machine whose
 * nameserver never answers fails this within run_until's 5 s; the second
 * name (a 64-octet label, more than DNS allows) fails without any query. */
static void test_dns__unknown_name_is_host_not_found(void** state) {
  fixture* f = FIXTURE(state);
  resolve_record unknown = {0};
  const double start = now_seconds();
  resolve_and_wait(f, "no-such-host.weft-test.invalid", 80, NULL, &unknown);
  assert_int_equal(unknown.status, WEFT_ERR_HOST_NOT_FOUND);
  assert_true(now_seconds() - start < 5.0);

  char name[80];
  memset(name, 'a', 64);
  strcpy(name + 64, ".invalid");
  resolve_record too_long = {0};
  resolve_and_wait(f, name, 80, NULL, &too_long);
  assert_int_equal(too_long.status, WEFT_ERR_HOST_NOT_FOUND);
}

static void test_dns__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  assert_int_equal(weft_resolve(NULL, NULL, "localhost", 80, NULL, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_resolve(NULL, (weft_loop_t*)f->pool, "localhost", 80, NULL, never_called_resolve,
                                NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_resolve(NULL, f->loop, NULL, 80, NULL, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_resolve(NULL, f->loop, "", 80, NULL, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  /* The callback may be NULL now (a future, or nobody, hears the outcome);
   * a refused call leaves *out alone. */
  weft_future_t* refused = NULL;
  assert_int_equal(weft_resolve(&refused, f->loop, NULL, 80, NULL, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_resolve(&refused, f->loop, "", 80, NULL, NULL, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);

  weft_resolve_options options = WEFT_RESOLVE_OPTIONS_INIT;
  options.struct_size = 4;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &options, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  weft_resolve_options bad_family = WEFT_RESOLVE_OPTIONS_INIT;
  bad_family.family = (weft_resolve_family)5;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &bad_family, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  bad_family.family = (weft_resolve_family)-1;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &bad_family, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  weft_resolve_options bad_socktype = WEFT_RESOLVE_OPTIONS_INIT;
  bad_socktype.socktype = (weft_resolve_socktype)2;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &bad_socktype, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);

  /* The executor option: another kind of handle, a destroyed pool, a pool
   * of another runtime. */
  weft_resolve_options with = WEFT_RESOLVE_OPTIONS_INIT;
  with.executor = (weft_executor_t*)f->loop;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &with, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  weft_executor_t* pool = NULL;
  assert_int_equal(weft_pool_create(&pool, f->runtime, NULL), WEFT_OK);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  with.executor = pool;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &with, never_called_resolve, NULL),
                   WEFT_ERR_STALE_HANDLE);
  weft_runtime_t* other = NULL;
  assert_int_equal(weft_runtime_create(&other, NULL), WEFT_OK);
  assert_int_equal(weft_runtime_pool(&with.executor, other), WEFT_OK);
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &with, never_called_resolve, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_runtime_destroy(other), WEFT_OK);

  /* A cancelled scope takes no new lookups. */
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "cancelled"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(weft_resolve(NULL, loop, "localhost", 80, NULL, never_called_resolve, NULL),
                   WEFT_ERR_CLOSED);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void count_lookups(void* user, const weft_object_info* info) {
  if (info->kind == WEFT_OBJECT_IO_OPERATION && strcmp(info->name, "resolve") == 0) ++*(int*)user;
}

/* A lookup queued behind a gated 1-worker pool: its scope's cancellation
 * calls it with cancelled, once; opening the gate later changes nothing. */
static void test_dns__scope_cancel_ends_a_pending_lookup(void** state) {
  fixture* f = FIXTURE(state);
  gate g = GATE_INIT;
  weft_executor_t* pool = held_pool(f, &g);

  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "lookups"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_resolve_options options = WEFT_RESOLVE_OPTIONS_INIT;
  options.executor = pool;
  resolve_record cancelled = {0}, destroyed = {0};
  assert_int_equal(weft_resolve(NULL, loop, "localhost", 80, &options, record_resolve, &cancelled), WEFT_OK);
  int listed = 0;
  assert_int_equal(weft_scope_list(scope, count_lookups, &listed), WEFT_OK);
  assert_int_equal(listed, 1);
  run_for(f->loop, 20);
  assert_int_equal(cancelled.calls, 0);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);

  /* Destroying a scope ends its lookups the same way. */
  assert_int_equal(weft_scope_create(&scope, f->runtime, "lookups2"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  assert_int_equal(weft_resolve(NULL, loop, "127.0.0.1", 80, &options, record_resolve, &destroyed), WEFT_OK);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(destroyed.calls, 1);
  assert_int_equal(destroyed.status, WEFT_ERR_CANCELLED);

  gate_open(&g);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK); /* drains: the skipped lookups too */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(destroyed.calls, 1);
}

/* A lookup queued behind a gated 1-worker pool: the runtime's destruction
 * calls it with cancelled, once; that callback opens the gate so that the
 * pool (which the runtime destroys next) can drain. */
static void test_dns__runtime_destroy_ends_a_pending_lookup(void** state) {
  fixture* f = FIXTURE(state);
  gate g = GATE_INIT;
  weft_executor_t* pool = held_pool(f, &g);
  weft_resolve_options options = WEFT_RESOLVE_OPTIONS_INIT;
  options.executor = pool;
  resolve_record r = {0};
  r.open_on_call = &g;
  assert_int_equal(weft_resolve(NULL, f->loop, "localhost", 80, &options, record_resolve, &r), WEFT_OK);
  run_for(f->loop, 20);
  assert_int_equal(r.calls, 0);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

/* The lookup runs on the executor named in the options: while that pool's
 * one worker is held, the lookup waits (the default pool is free), and it
 * completes once the worker is released. A strand works too. */
static void test_dns__explicit_executor(void** state) {
  fixture* f = FIXTURE(state);
  gate g = GATE_INIT;
  weft_executor_t* pool = held_pool(f, &g);

  weft_resolve_options options = WEFT_RESOLVE_OPTIONS_INIT;
  options.executor = pool;
  options.family = WEFT_RESOLVE_IPV4;
  resolve_record held = {0}, on_default = {0};
  assert_int_equal(weft_resolve(NULL, f->loop, "127.0.0.1", 7, &options, record_resolve, &held), WEFT_OK);
  assert_int_equal(weft_resolve(NULL, f->loop, "127.0.0.1", 8, NULL, record_resolve, &on_default), WEFT_OK);
  assert_true(run_until(f->loop, &on_default.calls));
  run_for(f->loop, 50);
  assert_int_equal(held.calls, 0);
  gate_open(&g);
  assert_true(run_until(f->loop, &held.calls));
  assert_int_equal(held.status, WEFT_OK);
  assert_int_equal(held.count, 1);
  assert_string_equal(held.seen[0].host, "127.0.0.1");
  assert_int_equal(held.seen[0].port, 7);

  weft_executor_t* strand = NULL;
  assert_int_equal(weft_strand_create(&strand, pool), WEFT_OK);
  options.executor = strand;
  resolve_record via_strand = {0};
  resolve_and_wait(f, "localhost", 9, &options, &via_strand);
  assert_int_equal(via_strand.status, WEFT_OK);
  assert_true(has_address(&via_strand, "127.0.0.1"));
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK); /* and its strand */
  assert_int_equal(weft_executor_destroy(strand), WEFT_ERR_STALE_HANDLE);
}

typedef struct thread_call {
  weft_loop_t* loop;
  weft_status status;
} thread_call;

static void* resolve_from_another_thread(void* arg) {
  thread_call* call = arg;
  call->status = weft_resolve(NULL, call->loop, "localhost", 80, NULL, never_called_resolve, NULL);
  return NULL;
}

static void test_dns__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  thread_call call = {f->loop, WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, resolve_from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.status, WEFT_ERR_WRONG_THREAD);
}

int main(void) {
  /* Bound the system resolver's wait for a nameserver, should the machine
   * have one that does not answer: one try, one second. */
  setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_dns__localhost_resolves_to_loopback, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__numeric_addresses_resolve_to_themselves,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__family_filter, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__unknown_name_is_host_not_found, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__scope_cancel_ends_a_pending_lookup, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__runtime_destroy_ends_a_pending_lookup, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__explicit_executor, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dns__loop_thread_only, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
