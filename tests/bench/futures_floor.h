/* W5's floor: the least a promise/future with a continuation can cost in C,
 * with no runtime around it. Single thread; the caller owns the queue and
 * runs it. See futures_floor.c. */
#ifndef WEFT_TESTS_BENCH_FUTURES_FLOOR_H
#define WEFT_TESTS_BENCH_FUTURES_FLOOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the continuations add up: how many ran, the sum of their values. */
struct floor_tally {
  uint64_t ran;
  uint64_t sum;
};

/* A FIFO of completed futures whose continuations are due. */
struct floor_queue {
  struct floor_future* head;
  struct floor_future* tail;
};

/* n times: allocate a future, attach a continuation that adds its value to
 * `tally`, resolve it with i (which queues the continuation). Returns 0, or -1
 * if an allocation failed (the futures made so far stay queued). */
int floor_futures_setup(struct floor_queue* queue, struct floor_tally* tally, uint64_t n);

/* Runs every queued continuation in order and frees its future. */
void floor_futures_run(struct floor_queue* queue);

#ifdef __cplusplus
}
#endif

#endif
