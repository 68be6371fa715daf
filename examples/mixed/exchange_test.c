/* exchange_test.c: the mixed example's exchange of named futures
 * (exchange.h): publishing retains a reference of the exchange's own and
 * looking up borrows it; destroying the exchange drops its references;
 * bad names, taken names, a full table and dead handles are refused with
 * nothing kept. cmocka; the loop thread is the test's thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "examples/mixed/exchange.h"

typedef struct fixture {
  weft_runtime_t* runtime;
  weft_loop_t* loop;
  exchange* x;
} fixture;

static int setup(void** state) {
  static fixture f;
  memset(&f, 0, sizeof f);
  assert_int_equal(weft_runtime_create(&f.runtime, NULL), WEFT_OK);
  weft_runtime_loop(&f.loop, f.runtime);
  assert_int_equal(exchange_create(&f.x), WEFT_OK);
  *state = &f;
  return 0;
}

static int teardown(void** state) {
  fixture* f = (fixture*)*state;
  exchange_destroy(f->x);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  return 0;
}

static void put_retains_and_get_borrows(void** state) {
  fixture* f = (fixture*)*state;
  weft_future_t* future = NULL;
  assert_int_equal(weft_future_create(&future, f->loop), WEFT_OK);
  assert_int_equal(exchange_put(f->x, "answer", future), WEFT_OK);
  /* The publisher drops its reference: the exchange's keeps the future. */
  assert_int_equal(weft_future_release(future), WEFT_OK);
  weft_future_t* found = NULL;
  assert_int_equal(exchange_get(&found, f->x, "answer"), WEFT_OK);
  assert_ptr_equal(found, future);
  weft_value v = weft_value_int64(5);
  assert_int_equal(weft_future_resolve(found, &v), WEFT_OK);
  /* A holder past the exchange takes its own reference... */
  assert_int_equal(weft_future_retain(found), WEFT_OK);
  exchange_destroy(f->x);
  f->x = NULL;
  /* ...which is all that is left once the exchange is gone. */
  int64_t got = 0;
  weft_status status = WEFT_ERR_UNKNOWN;
  weft_value value;
  assert_int_equal(weft_future_result(&status, &value, NULL, found), WEFT_OK);
  assert_int_equal(weft_value_get_int64(&got, &value), WEFT_OK);
  assert_int_equal(got, 5);
  assert_int_equal(weft_future_release(found), WEFT_OK);
  assert_int_equal(weft_future_retain(found), WEFT_ERR_STALE_HANDLE); /* every reference is gone */
}

static void bad_calls_are_refused(void** state) {
  fixture* f = (fixture*)*state;
  weft_future_t* future = NULL;
  assert_int_equal(weft_future_create(&future, f->loop), WEFT_OK);
  char long_name[EXCHANGE_NAME_MAX + 1];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';

  assert_int_equal(exchange_create(NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(exchange_put(NULL, "a", future), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(exchange_put(f->x, NULL, future), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(exchange_put(f->x, "", future), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(exchange_put(f->x, long_name, future), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(exchange_put(f->x, "a", NULL), WEFT_ERR_INVALID_ARGUMENT);
  weft_future_t* found = NULL;
  assert_int_equal(exchange_get(&found, f->x, "a"), WEFT_ERR_NOT_FOUND);
  assert_int_equal(exchange_get(NULL, f->x, "a"), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(exchange_get(&found, NULL, "a"), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(exchange_get(&found, f->x, ""), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(found);

  /* A taken name: refused, the first stays. */
  assert_int_equal(exchange_put(f->x, "a", future), WEFT_OK);
  weft_future_t* other = NULL;
  assert_int_equal(weft_future_create(&other, f->loop), WEFT_OK);
  assert_int_equal(exchange_put(f->x, "a", other), WEFT_ERR_ALREADY_EXISTS);
  assert_int_equal(exchange_get(&found, f->x, "a"), WEFT_OK);
  assert_ptr_equal(found, future);

  /* A full table: refused. */
  for (int i = 1; i < EXCHANGE_CAPACITY; i++) {
    char name[16];
    snprintf(name, sizeof name, "slot%d", i);
    assert_int_equal(exchange_put(f->x, name, other), WEFT_OK);
  }
  assert_int_equal(exchange_put(f->x, "one-more", other), WEFT_ERR_NO_MEMORY);
  assert_int_equal(exchange_get(&found, f->x, "one-more"), WEFT_ERR_NOT_FOUND);

  /* A dead handle: refused by weft's handle check, nothing kept. */
  weft_future_t* dead = NULL;
  assert_int_equal(weft_future_create(&dead, f->loop), WEFT_OK);
  assert_int_equal(weft_future_release(dead), WEFT_OK);
  exchange_destroy(f->x);
  assert_int_equal(exchange_create(&f->x), WEFT_OK);
  assert_int_not_equal(exchange_put(f->x, "dead", dead), WEFT_OK);
  assert_int_equal(exchange_get(&found, f->x, "dead"), WEFT_ERR_NOT_FOUND);

  assert_int_equal(weft_future_release(future), WEFT_OK);
  assert_int_equal(weft_future_release(other), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(put_retains_and_get_borrows, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_calls_are_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
