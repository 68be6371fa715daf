#include "tests/capi/support.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void* tracking_alloc(void* user, size_t size, size_t alignment) {
  tracking_allocator* t = user;
  pthread_mutex_lock(&t->mutex);
  long number = (long)t->total_allocations++;
  int refuse = t->fail_at >= 0 && (number == t->fail_at || (t->fail_forever && number > t->fail_at));
  if (refuse) t->refused++;
  pthread_mutex_unlock(&t->mutex);
  if (refuse) return NULL;
  /* A header in front records size and alignment, to check the free. */
  size_t header = alignment > 16 ? alignment : 16;
  unsigned char* block = malloc(header + size);
  if (block == NULL) return NULL;
  ((size_t*)block)[0] = size;
  ((size_t*)block)[1] = alignment;
  pthread_mutex_lock(&t->mutex);
  t->live_blocks++;
  t->live_bytes += size;
  pthread_mutex_unlock(&t->mutex);
  return block + header;
}

static void tracking_free(void* user, void* pointer, size_t size, size_t alignment) {
  tracking_allocator* t = user;
  size_t header = alignment > 16 ? alignment : 16;
  unsigned char* block = (unsigned char*)pointer - header;
  pthread_mutex_lock(&t->mutex);
  if (((size_t*)block)[0] != size || ((size_t*)block)[1] != alignment) t->mismatched_frees++;
  t->live_blocks--;
  t->live_bytes -= size;
  pthread_mutex_unlock(&t->mutex);
  free(block);
}

void tracking_init(tracking_allocator* t) {
  memset(t, 0, sizeof(*t));
  pthread_mutex_init(&t->mutex, NULL);
  t->fail_at = -1;
}

weft_allocator tracking_hooks(tracking_allocator* t) {
  weft_allocator hooks;
  hooks.alloc = tracking_alloc;
  hooks.free = tracking_free;
  hooks.user = t;
  return hooks;
}

void tracking_arm(tracking_allocator* t, long n, int forever) {
  pthread_mutex_lock(&t->mutex);
  t->fail_at = (long)t->total_allocations + n;
  t->fail_forever = forever;
  pthread_mutex_unlock(&t->mutex);
}

void tracking_disarm(tracking_allocator* t) {
  pthread_mutex_lock(&t->mutex);
  t->fail_at = -1;
  t->fail_forever = 0;
  pthread_mutex_unlock(&t->mutex);
}

size_t tracking_refused(tracking_allocator* t) {
  pthread_mutex_lock(&t->mutex);
  size_t n = t->refused;
  pthread_mutex_unlock(&t->mutex);
  return n;
}

size_t tracking_live_blocks(tracking_allocator* t) {
  pthread_mutex_lock(&t->mutex);
  size_t n = t->live_blocks;
  pthread_mutex_unlock(&t->mutex);
  return n;
}

static int setup_with(void** state, weft_clock_kind clock) {
  fixture* f = calloc(1, sizeof(*f));
  if (f == NULL) return -1;
  tracking_init(&f->allocator);
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 2;
  options.clock = clock;
  options.allocator = tracking_hooks(&f->allocator);
  options.name = "test";
  if (weft_runtime_create(&f->runtime, &options) != WEFT_OK) return -1;
  if (weft_runtime_loop(&f->loop, f->runtime) != WEFT_OK) return -1;
  if (weft_runtime_pool(&f->pool, f->runtime) != WEFT_OK) return -1;
  *state = f;
  return 0;
}

int fixture_setup(void** state) { return setup_with(state, WEFT_CLOCK_MONOTONIC); }
int fixture_setup_manual(void** state) { return setup_with(state, WEFT_CLOCK_MANUAL); }

int fixture_teardown(void** state) {
  fixture* f = *state;
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  /* Nothing the runtime allocated may outlive it. */
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
  assert_int_equal(f->allocator.mismatched_frees, 0);
  pthread_mutex_destroy(&f->allocator.mutex);
  free(f);
  return 0;
}

static void record_misuse(void* user, const char* function, weft_status status, const char* message) {
  misuse_record* r = user;
  r->count++;
  r->last_status = status;
  snprintf(r->last_function, sizeof(r->last_function), "%s", function);
  snprintf(r->last_message, sizeof(r->last_message), "%s", message);
}

void misuse_recorder_install(misuse_record* record) {
  memset(record, 0, sizeof(*record));
  weft_set_misuse_handler(record_misuse, record);
}

void misuse_recorder_remove(void) { weft_set_misuse_handler(NULL, NULL); }

int run_until(weft_loop_t* loop, const volatile int* flag) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int fd = -1;
  weft_loop_backend_fd(&fd, loop);
  while (!*flag) {
    weft_loop_run(loop, WEFT_RUN_NOWAIT);
    if (*flag) break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= 5) break;
    int64_t timeout_ns = -1;
    weft_loop_backend_timeout(&timeout_ns, loop);
    int timeout = timeout_ns < 0 || timeout_ns > (int64_t)WEFT_MS(10) ? 10 : (int)((timeout_ns + 999999) / 1000000);
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, timeout);
  }
  return *flag;
}

void check_message(weft_status status, const char* message, char* copy, size_t capacity) {
  if (status == WEFT_OK) {
    assert_null(message);
    if (capacity > 0) copy[0] = '\0';
    return;
  }
  assert_non_null(message);
  assert_true(message[0] != '\0');
  if (capacity > 0) snprintf(copy, capacity, "%s", message);
}

void record_callback(void* user, weft_status status, const char* message) {
  call_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  if (r->sequence != NULL) r->order = (*r->sequence)++;
}

weft_status wait_at_gate(void* user, weft_value* result) {
  (void)result;
  gate* g = user;
  pthread_mutex_lock(&g->mutex);
  g->entered++;
  pthread_cond_broadcast(&g->cond);
  while (!g->open) pthread_cond_wait(&g->cond, &g->mutex);
  pthread_mutex_unlock(&g->mutex);
  return WEFT_OK;
}

void gate_wait_entered(gate* g, int n) {
  pthread_mutex_lock(&g->mutex);
  while (g->entered < n) pthread_cond_wait(&g->cond, &g->mutex);
  pthread_mutex_unlock(&g->mutex);
}

void gate_open(gate* g) {
  pthread_mutex_lock(&g->mutex);
  g->open = 1;
  pthread_cond_broadcast(&g->cond);
  pthread_mutex_unlock(&g->mutex);
}

void never_called(void* user, weft_status status, const char* message) {
  (void)user;
  (void)status;
  (void)message;
  fail_msg("a callback of a failed call ran");
}

void never_called_read(void* user, weft_status status, const char* message, const void* bytes,
                       size_t len) {
  (void)user;
  (void)status;
  (void)message;
  (void)bytes;
  (void)len;
  fail_msg("a callback of a failed call ran");
}

void record_read(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  read_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->null_bytes = bytes == NULL;
  if (len > sizeof(r->bytes)) len = sizeof(r->bytes);
  if (len > 0) memcpy(r->bytes, bytes, len);
  r->len = len;
}

void spin_loop(weft_loop_t* loop, int passes) {
  for (int i = 0; i < passes; ++i) {
    assert_int_equal(weft_loop_run(loop, WEFT_RUN_NOWAIT), WEFT_OK);
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

void stream_pair_open(fixture* f, weft_stream_t** a, weft_stream_t** b) {
  *a = NULL;
  *b = NULL;
  assert_int_equal(weft_pipe_pair(a, b, f->loop), WEFT_OK);
  assert_non_null(*a);
  assert_non_null(*b);
  assert_true(*a != *b);
}

void stream_write_text(weft_stream_t* stream, const char* text) {
  assert_int_equal(weft_stream_write(NULL, stream, text, strlen(text), NULL, NULL), WEFT_OK);
}

void record_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  stream_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->stream = stream;
}

weft_tcp_listener_t* tcp_listen_loopback(fixture* f, uint16_t* port) {
  weft_tcp_listener_t* listener = NULL;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_non_null(listener);
  assert_int_equal(weft_tcp_listener_port(port, listener), WEFT_OK);
  assert_true(*port != 0);
  return listener;
}

void tcp_connect_pair(fixture* f, weft_tcp_listener_t* listener, uint16_t port,
                      weft_stream_t** client, weft_stream_t** server) {
  stream_record accepted = {0}, connected = {0};
  assert_int_equal(weft_tcp_accept(NULL, listener, record_stream, &accepted), WEFT_OK);
  assert_int_equal(
      weft_tcp_connect(NULL, f->loop, "127.0.0.1", port, WEFT_SEC(5), record_stream, &connected), WEFT_OK);
  assert_true(run_until(f->loop, &connected.calls));
  assert_true(run_until(f->loop, &accepted.calls));
  assert_int_equal(connected.status, WEFT_OK);
  assert_int_equal(accepted.status, WEFT_OK);
  assert_non_null(connected.stream);
  assert_non_null(accepted.stream);
  *client = connected.stream;
  *server = accepted.stream;
}

weft_executor_t* held_pool(fixture* f, gate* g) {
  weft_pool_options one = WEFT_POOL_OPTIONS_INIT;
  one.threads = 1;
  weft_executor_t* pool = NULL;
  assert_int_equal(weft_pool_create(&pool, f->runtime, &one), WEFT_OK);
  assert_int_equal(weft_executor_submit(NULL, pool, f->loop, wait_at_gate, NULL, g), WEFT_OK);
  gate_wait_entered(g, 1);
  return pool;
}
