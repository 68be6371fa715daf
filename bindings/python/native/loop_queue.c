/* native/loop_queue.c: weft.Loop's two queues — the ready ring (FIFO of
 * handles to run this iteration) and the timer heap (a binary min-heap on
 * (when_ns, seq), cancelled timers dropped lazily or by compaction).
 *
 * Thread: loop thread (or any thread holding the GIL before the loop runs).
 * Both hold one reference per handle.
 */
#include "native/loop.h"

int weft_py_ready_push(WeftPyLoop* loop, WeftPyHandle* handle) {
  if (loop->ready_count == loop->ready_cap) {
    size_t cap = loop->ready_cap ? loop->ready_cap * 2 : 256;
    WeftPyHandle** ring = PyMem_Malloc(cap * sizeof(*ring));
    if (ring == NULL) {
      Py_DECREF(handle);
      PyErr_NoMemory();
      return -1;
    }
    for (size_t i = 0; i < loop->ready_count; i++) {
      ring[i] = loop->ready[(loop->ready_head + i) & (loop->ready_cap - 1)];
    }
    PyMem_Free(loop->ready);
    loop->ready = ring;
    loop->ready_cap = cap;
    loop->ready_head = 0;
  }
  loop->ready[(loop->ready_head + loop->ready_count) & (loop->ready_cap - 1)] = handle;
  loop->ready_count++;
  return 0;
}

WeftPyHandle* weft_py_ready_pop(WeftPyLoop* loop) {
  if (loop->ready_count == 0) return NULL;
  WeftPyHandle* h = loop->ready[loop->ready_head];
  loop->ready_head = (loop->ready_head + 1) & (loop->ready_cap - 1);
  loop->ready_count--;
  return h;
}

static inline int earlier(const WeftPyHandle* a, const WeftPyHandle* b) {
  return a->when_ns < b->when_ns || (a->when_ns == b->when_ns && a->seq < b->seq);
}

static void sift_up(WeftPyHandle** heap, size_t i) {
  WeftPyHandle* h = heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(h, heap[parent])) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = h;
}

static void sift_down(WeftPyHandle** heap, size_t len, size_t i) {
  WeftPyHandle* h = heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= len) break;
    if (child + 1 < len && earlier(heap[child + 1], heap[child])) child++;
    if (!earlier(heap[child], h)) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = h;
}

int weft_py_heap_push(WeftPyLoop* loop, WeftPyHandle* handle) {
  if (loop->heap_len == loop->heap_cap) {
    size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
    WeftPyHandle** heap = PyMem_Realloc(loop->heap, cap * sizeof(*heap));
    if (heap == NULL) {
      Py_DECREF(handle);
      PyErr_NoMemory();
      return -1;
    }
    loop->heap = heap;
    loop->heap_cap = cap;
  }
  handle->seq = loop->timer_seq++;
  handle->scheduled = 1;
  loop->heap[loop->heap_len] = handle;
  sift_up(loop->heap, loop->heap_len);
  loop->heap_len++;
  return 0;
}

WeftPyHandle* weft_py_heap_pop(WeftPyLoop* loop) {
  if (loop->heap_len == 0) return NULL;
  WeftPyHandle* top = loop->heap[0];
  loop->heap_len--;
  if (loop->heap_len > 0) {
    loop->heap[0] = loop->heap[loop->heap_len];
    sift_down(loop->heap, loop->heap_len, 0);
  }
  top->scheduled = 0;
  if (top->cancelled) loop->heap_cancelled--;
  return top;
}

void weft_py_heap_compact(WeftPyLoop* loop) {
  /* Cancelled handles move to the tail and are released once the heap is
   * whole again: releasing one may run code that schedules timers. */
  size_t kept = 0, len = loop->heap_len;
  for (size_t i = 0; i < len; i++) {
    WeftPyHandle* h = loop->heap[i];
    if (h->cancelled) {
      h->scheduled = 0;
    } else {
      WeftPyHandle* t = loop->heap[kept];
      loop->heap[kept++] = h;
      loop->heap[i] = t;
    }
  }
  size_t dropped = len - kept;
  WeftPyHandle** gone = dropped ? PyMem_Malloc(dropped * sizeof(*gone)) : NULL;
  if (dropped && gone == NULL) {
    /* Keep them (still cancelled, dropped when popped). */
    for (size_t i = kept; i < len; i++) loop->heap[i]->scheduled = 1;
    return;
  }
  for (size_t i = 0; i < dropped; i++) gone[i] = loop->heap[kept + i];
  loop->heap_len = kept;
  loop->heap_cancelled = 0;
  for (size_t i = kept / 2; i-- > 0;) sift_down(loop->heap, kept, i);
  for (size_t i = 0; i < dropped; i++) Py_DECREF(gone[i]);
  PyMem_Free(gone);
}

void weft_py_queues_clear(WeftPyLoop* loop) {
  WeftPyHandle* h;
  while ((h = weft_py_ready_pop(loop)) != NULL) Py_DECREF(h);
  while ((h = weft_py_heap_pop(loop)) != NULL) Py_DECREF(h);
  loop->heap_cancelled = 0;
  pthread_mutex_lock(&loop->inbox_lock);
  WeftPyHandle** inbox = loop->inbox;
  size_t len = loop->inbox_len;
  loop->inbox = NULL;
  loop->inbox_len = loop->inbox_cap = 0;
  pthread_mutex_unlock(&loop->inbox_lock);
  for (size_t i = 0; i < len; i++) Py_DECREF(inbox[i]);
  PyMem_RawFree(inbox);
}
