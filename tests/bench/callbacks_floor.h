/* W2's floor: the least a queue of posted callbacks can cost in C, with no
 * runtime around it. Single thread; the caller owns the queue, posts into it
 * and runs it. See callbacks_floor.c. */
#ifndef WEFT_TESTS_BENCH_CALLBACKS_FLOOR_H
#define WEFT_TESTS_BENCH_CALLBACKS_FLOOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*floor_callback)(void* user);

/* A FIFO of posted callbacks: 16-byte records (function, argument) in 64 KiB
 * chunks linked oldest to newest. Zero-initialise it before use. */
struct floor_callback_queue {
  struct floor_callback_chunk* head; /* the oldest chunk: where running reads */
  struct floor_callback_chunk* tail; /* the newest chunk: where posting writes */
  uint32_t read;                     /* next record to run in head */
  uint32_t write;                    /* next free record in tail */
};

/* Appends fn(user) to the queue. Returns 0, or -1 if a chunk could not be
 * allocated (the queue is unchanged then). */
int floor_post(struct floor_callback_queue* queue, floor_callback fn, void* user);

/* Runs every queued callback in posting order, freeing each chunk once it is
 * drained; the queue is empty afterwards. Returns how many ran. */
uint64_t floor_run(struct floor_callback_queue* queue);

#ifdef __cplusplus
}
#endif

#endif
