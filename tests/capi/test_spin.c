/* Spinning before sleeping (weft_spin_mode, since 1.2): the spin option of
 * weft_runtime_options and weft_pool_options is taken and checked, callers
 * built against 1.0/1.1 headers (whose structs end before it) still work,
 * and a runtime left idle for a second (its loop waiting for a worker, its
 * pool with nothing to do) uses almost no CPU, with either mode. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "tests/capi/support.h"

/* The sizes 1.0 published, where the spin field now begins. */
#define RUNTIME_OPTIONS_1_0 offsetof(weft_runtime_options, spin)
#define POOL_OPTIONS_1_0 offsetof(weft_pool_options, spin)


static weft_status sleep_a_second(void* user, weft_value* result) {
  (void)user;
  struct timespec second = {1, 0};
  while (nanosleep(&second, &second) != 0) {
  }
  *result = weft_value_int64(7);
  return WEFT_OK;
}

/* Submits `rounds` jobs to `pool` one after another (each from the
 * previous one's completion), so the loop and the pool both wait for each
 * other the whole time. The work and its completion share `user`. */
typedef struct chain {
  weft_executor_t* pool;
  weft_loop_t* loop;
  int64_t value;
  int64_t rounds;
  weft_status last_status;
} chain;

/* On a worker: the next value (the loop does not touch `value` meanwhile). */
static weft_status add_one(void* user, weft_value* result) {
  const chain* c = user;
  *result = weft_value_int64(c->value + 1);
  return WEFT_OK;
}

static void chain_step(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                       const char* message) {
  (void)future;
  (void)message;
  chain* c = user;
  c->last_status = status;
  if (status != WEFT_OK) return;
  c->value = value->as.int64;
  if (c->value < c->rounds) {
    c->last_status = weft_executor_submit(NULL, c->pool, c->loop, add_one, chain_step, c);
  }
}

static double process_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_spin__options_are_taken_and_checked(void** state) {
  (void)state;
  weft_runtime_options defaults = WEFT_RUNTIME_OPTIONS_INIT;
  assert_int_equal(defaults.spin, WEFT_SPIN_ADAPTIVE);
  weft_pool_options pool_defaults = WEFT_POOL_OPTIONS_INIT;
  assert_int_equal(pool_defaults.spin, WEFT_SPIN_ADAPTIVE);

  weft_runtime_t* rt = NULL;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.spin = (weft_spin_mode)2;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(rt);
  options.spin = (weft_spin_mode)-1;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_ERR_INVALID_ARGUMENT);
  options.spin = WEFT_SPIN_OFF;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_OK);

  weft_executor_t* pool = NULL;
  weft_pool_options pool_options = WEFT_POOL_OPTIONS_INIT;
  pool_options.threads = 1;
  pool_options.spin = (weft_spin_mode)9;
  assert_int_equal(weft_pool_create(&pool, rt, &pool_options), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(pool);
  pool_options.spin = WEFT_SPIN_OFF;
  assert_int_equal(weft_pool_create(&pool, rt, &pool_options), WEFT_OK);

  /* Both spin modes run work. */
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_runtime_loop(&loop, rt), WEFT_OK);
  weft_executor_t* default_pool = NULL;
  assert_int_equal(weft_runtime_pool(&default_pool, rt), WEFT_OK);
  chain a = {default_pool, loop, 0, 200, WEFT_OK};
  chain b = {pool, loop, 0, 200, WEFT_OK};
  assert_int_equal(weft_executor_submit(NULL, a.pool, loop, add_one, chain_step, &a), WEFT_OK);
  assert_int_equal(weft_executor_submit(NULL, b.pool, loop, add_one, chain_step, &b), WEFT_OK);
  assert_int_equal(weft_loop_run(loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(a.last_status, WEFT_OK);
  assert_int_equal(a.value, 200);
  assert_int_equal(b.last_status, WEFT_OK);
  assert_int_equal(b.value, 200);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
}

/* A caller compiled against 1.0/1.1 headers passes the smaller struct: the
 * bytes after it are not its own and must not be read. */
static void test_spin__structs_from_older_headers_are_accepted(void** state) {
  (void)state;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.struct_size = RUNTIME_OPTIONS_1_0;
  memset((unsigned char*)&options + RUNTIME_OPTIONS_1_0, 0xAB, sizeof options - RUNTIME_OPTIONS_1_0);
  weft_runtime_t* rt = NULL;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_OK);
  /* A size between the published ones, or below the first, is no version. */
  weft_runtime_t* refused = NULL;
  options.struct_size = RUNTIME_OPTIONS_1_0 - 1;
  assert_int_equal(weft_runtime_create(&refused, &options), WEFT_ERR_INVALID_ARGUMENT);
  options.struct_size = RUNTIME_OPTIONS_1_0 + 1;
  assert_int_equal(weft_runtime_create(&refused, &options), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);

  weft_pool_options pool_options = WEFT_POOL_OPTIONS_INIT;
  pool_options.struct_size = POOL_OPTIONS_1_0;
  pool_options.threads = 1;
  memset((unsigned char*)&pool_options + POOL_OPTIONS_1_0, 0xAB,
         sizeof pool_options - POOL_OPTIONS_1_0);
  weft_executor_t* pool = NULL;
  pool_options.struct_size = POOL_OPTIONS_1_0 + 4;
  assert_int_equal(weft_pool_create(&pool, rt, &pool_options), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(pool);
  pool_options.struct_size = POOL_OPTIONS_1_0;
  assert_int_equal(weft_pool_create(&pool, rt, &pool_options), WEFT_OK);
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_runtime_loop(&loop, rt), WEFT_OK);
  chain c = {pool, loop, 0, 10, WEFT_OK};
  assert_int_equal(weft_executor_submit(NULL, pool, loop, add_one, chain_step, &c), WEFT_OK);
  assert_int_equal(weft_loop_run(loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(c.value, 10);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);

  /* options_init with an older size fills that much and nothing after. */
  struct {
    weft_runtime_options options;
    unsigned char guard[8];
  } older;
  memset(&older, 0xCD, sizeof older);
  assert_int_equal(weft_runtime_options_init(&older.options, RUNTIME_OPTIONS_1_0), WEFT_OK);
  assert_int_equal(older.options.struct_size, RUNTIME_OPTIONS_1_0);
  assert_int_equal(older.options.threads, 0);
  assert_null(older.options.name);
  const unsigned char* tail = (const unsigned char*)&older.options + RUNTIME_OPTIONS_1_0;
  for (size_t i = 0; i < sizeof older - RUNTIME_OPTIONS_1_0; ++i) assert_int_equal(tail[i], 0xCD);
  assert_int_equal(weft_runtime_options_init(&older.options, RUNTIME_OPTIONS_1_0 - 1),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_runtime_options_init(&older.options, sizeof older.options - 1),
                   WEFT_ERR_INVALID_ARGUMENT);

  weft_pool_options pool_init;
  memset(&pool_init, 0xCD, sizeof pool_init);
  assert_int_equal(weft_pool_options_init(&pool_init, POOL_OPTIONS_1_0), WEFT_OK);
  assert_int_equal(pool_init.struct_size, POOL_OPTIONS_1_0);
  assert_int_equal((unsigned)*((const unsigned char*)&pool_init + POOL_OPTIONS_1_0), 0xCD);
  assert_int_equal(weft_pool_options_init(&pool_init, sizeof pool_init), WEFT_OK);
  assert_int_equal(pool_init.spin, WEFT_SPIN_ADAPTIVE);
}

/* Idleness is a correctness property, not a speed figure: the bound (5 % of
 * one core over the second) is far above what sleeping threads use and far
 * below one thread that spins. */
static void idle_runtime_uses_almost_no_cpu(weft_spin_mode mode) {
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 2;
  options.spin = mode;
  weft_runtime_t* rt = NULL;
  assert_int_equal(weft_runtime_create(&rt, &options), WEFT_OK);
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_runtime_loop(&loop, rt), WEFT_OK);
  weft_executor_t* pool = NULL;
  assert_int_equal(weft_runtime_pool(&pool, rt), WEFT_OK);

  /* Busy first: 2,000 round trips through the pool, one at a time. */
  chain c = {pool, loop, 0, 2000, WEFT_OK};
  assert_int_equal(weft_executor_submit(NULL, pool, loop, add_one, chain_step, &c), WEFT_OK);
  assert_int_equal(weft_loop_run(loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(c.value, 2000);

  /* Then idle: one worker sleeps a second in its work, the other has
   * nothing, and the loop waits for the work's completion. */
  weft_future_t* slow = NULL;
  const double cpu_before = process_cpu_seconds();
  const double wall_before = wall_seconds();
  assert_int_equal(weft_executor_submit(&slow, pool, loop, sleep_a_second, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_loop_run(loop, WEFT_RUN_DEFAULT), WEFT_OK);
  const double cpu = process_cpu_seconds() - cpu_before;
  const double wall = wall_seconds() - wall_before;
  weft_value value;
  assert_int_equal(weft_future_result(NULL, &value, NULL, slow), WEFT_OK);
  assert_int_equal(value.as.int64, 7);
  assert_int_equal(weft_future_release(slow), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(rt), WEFT_OK);
  print_message("spin mode %d: %.3f ms of CPU in %.1f ms\n", (int)mode, cpu * 1e3, wall * 1e3);
  assert_true(wall >= 0.99);
  assert_true(cpu < 0.05 * wall);
}

static void test_spin__an_idle_runtime_uses_almost_no_cpu(void** state) {
  (void)state;
  idle_runtime_uses_almost_no_cpu(WEFT_SPIN_ADAPTIVE);
  idle_runtime_uses_almost_no_cpu(WEFT_SPIN_OFF);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spin__options_are_taken_and_checked),
      cmocka_unit_test(test_spin__structs_from_older_headers_are_accepted),
      cmocka_unit_test(test_spin__an_idle_runtime_uses_almost_no_cpu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
