/* W5's floor, in plain C: per future one malloc'd record holding the value,
 * the continuation (a function and its argument) and a queue link; resolving
 * writes the value and appends the record to a FIFO, running pops, calls and
 * frees. No atomics, no reference counts, no loop, no error path beyond
 * malloc's: what any future costs at least when a million of them are live
 * at once. Single thread (the benchmark's). */
#include "tests/bench/futures_floor.h"

#include <stdlib.h>

typedef void (*floor_continuation)(void* user, uint64_t value);

struct floor_future {
  struct floor_future* next;
  floor_continuation fn;
  void* user;
  uint64_t value;
};

static void add_to_tally(void* user, uint64_t value) {
  struct floor_tally* tally = (struct floor_tally*)user;
  tally->sum += value;
  tally->ran += 1;
}

/* noinline: attach and resolve stay separate steps, as in a real API. */
static __attribute__((noinline)) void floor_then(struct floor_future* future, floor_continuation fn,
                                                 void* user) {
  future->fn = fn;
  future->user = user;
}

static __attribute__((noinline)) void floor_resolve(struct floor_queue* queue,
                                                    struct floor_future* future, uint64_t value) {
  future->value = value;
  future->next = NULL;
  if (queue->tail != NULL) {
    queue->tail->next = future;
  } else {
    queue->head = future;
  }
  queue->tail = future;
}

int floor_futures_setup(struct floor_queue* queue, struct floor_tally* tally, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    struct floor_future* future = (struct floor_future*)malloc(sizeof *future);
    if (future == NULL) return -1;
    floor_then(future, add_to_tally, tally);
    floor_resolve(queue, future, i);
  }
  return 0;
}

void floor_futures_run(struct floor_queue* queue) {
  struct floor_future* future = queue->head;
  while (future != NULL) {
    struct floor_future* next = future->next;
    future->fn(future->user, future->value);
    free(future);
    future = next;
  }
  queue->head = NULL;
  queue->tail = NULL;
}
