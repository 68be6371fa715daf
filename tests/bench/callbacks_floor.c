/* W2's floor, in plain C: a posted callback is a 16-byte record (a function
 * and its argument) appended to a FIFO of 64 KiB chunks, the layout a
 * callback queue needs at least when a million callbacks are queued at once;
 * running calls each through its pointer, in order, and frees every chunk it
 * has drained. No loop, no passes, no cross-thread inbox, no error path beyond
 * malloc's. Single thread (the benchmark's). */
#include "tests/bench/callbacks_floor.h"

#include <stdlib.h>

struct floor_callback_record {
  floor_callback fn;
  void* user;
};

enum { kRecordsPerChunk = (64 * 1024 - 16) / sizeof(struct floor_callback_record) };

struct floor_callback_chunk {
  struct floor_callback_chunk* next;
  struct floor_callback_record records[kRecordsPerChunk];
};

/* noinline: posting is a call, as in a real API. */
__attribute__((noinline)) int floor_post(struct floor_callback_queue* queue, floor_callback fn,
                                         void* user) {
  if (queue->tail == NULL || queue->write == kRecordsPerChunk) {
    struct floor_callback_chunk* chunk = (struct floor_callback_chunk*)malloc(sizeof *chunk);
    if (chunk == NULL) return -1;
    chunk->next = NULL;
    if (queue->tail != NULL) {
      queue->tail->next = chunk;
    } else {
      queue->head = chunk;
      queue->read = 0;
    }
    queue->tail = chunk;
    queue->write = 0;
  }
  struct floor_callback_record* record = &queue->tail->records[queue->write++];
  record->fn = fn;
  record->user = user;
  return 0;
}

uint64_t floor_run(struct floor_callback_queue* queue) {
  uint64_t ran = 0;
  while (queue->head != NULL) {
    struct floor_callback_chunk* chunk = queue->head;
    const uint32_t end = chunk == queue->tail ? queue->write : (uint32_t)kRecordsPerChunk;
    for (uint32_t i = queue->read; i < end; ++i) {
      chunk->records[i].fn(chunk->records[i].user);
      ++ran;
    }
    queue->head = chunk->next;
    queue->read = 0;
    if (queue->head == NULL) queue->tail = NULL;
    free(chunk);
  }
  queue->write = 0;
  return ran;
}
