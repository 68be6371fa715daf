/* The fail-Nth sweep itself (alloc_failure.h): arming the refusal, running a
 * scenario once per allocation index in both modes, and the checks every
 * scenario shares. */
#include <stdlib.h>

#include "tests/capi/alloc_failure.h"

long g_index;
int g_forever;

#ifdef WEFT_SWEEP_OPERATOR_NEW
void arm(fixture* f) {
  (void)f;
  operator_new_arm(g_index, g_forever);
}
void disarm(fixture* f) {
  (void)f;
  operator_new_disarm();
}
static size_t refused_so_far(fixture* f) {
  (void)f;
  return (size_t)operator_new_refused();
}
#else
void arm(fixture* f) { tracking_arm(&f->allocator, g_index, g_forever); }
void disarm(fixture* f) { tracking_disarm(&f->allocator); }
static size_t refused_so_far(fixture* f) { return tracking_refused(&f->allocator); }
#endif

long core_blocks_live(void) {
#ifdef WEFT_SWEEP_OPERATOR_NEW
  return operator_new_live();
#else
  return 0;
#endif
}

void report_sweep(const char* what, long allocations) {
  if (getenv("WEFT_SWEEP_VERBOSE") != NULL) print_message("%s: %ld allocations swept\n", what, allocations);
}

void check_call_status(weft_status status) {
  if (status != WEFT_OK) assert_int_equal(status, WEFT_ERR_NO_MEMORY);
}

void sweep_named(scenario_fn scenario, const char* name) {
  /* A first run that refuses nothing: what a thread creates once and keeps
   * (its frame pool) exists before the blocks are counted. */
  g_index = 1L << 40;
  g_forever = 0;
  void* warm = NULL;
  assert_int_equal(fixture_setup(&warm), 0);
  scenario(warm);
  disarm(warm);
  fixture_teardown(&warm);
  for (long index = 0; index < 400; ++index) {
    int untouched = 0;
    for (int forever = 0; forever <= 1; ++forever) {
      g_index = index;
      g_forever = forever;
      const long core_blocks_before = core_blocks_live();
      void* state = NULL;
      assert_int_equal(fixture_setup(&state), 0);
      fixture* f = state;
      const size_t refused_before = refused_so_far(f);
      scenario(f);
      disarm(f);
      if (!forever && refused_so_far(f) == refused_before) untouched = 1;
      fixture_teardown(&state); /* checks that no block is left */
      if (core_blocks_live() != core_blocks_before) {
        fail_msg("%ld core blocks left after refusing allocation %ld (%s)", core_blocks_live() - core_blocks_before,
                 index, forever ? "and every one after it" : "once");
      }
    }
    if (untouched) {
      report_sweep(name, index);
      return;
    }
  }
  fail_msg("%s still met a refusal after 400 allocations", name);
}

void check_promised(fixture* f, weft_status call, const volatile int* calls) {
  if (call == WEFT_OK) assert_true(run_until(f->loop, calls));
  spin_loop(f->loop, 3);
  assert_int_equal(*calls, call == WEFT_OK ? 1 : 0);
}
