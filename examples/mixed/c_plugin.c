/* c_plugin.c: the C plugin of the mixed example (see c_plugin.h): a scope
 * of its own in the host's runtime; "c.go" resolved by a timer; a wait on
 * another part's future; a 10 ms heartbeat; background work in 10 us
 * chunks, always ready to run.
 *
 * Thread: the loop thread.
 * Ownership: the plugin struct is freed by c_plugin_unload, after its scope
 * is cancelled and drained; callbacks only ever receive the plugin, which
 * outlives every callback of its scope (each is called by then).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include "examples/mixed/c_plugin.h"

#include <stdlib.h>
#include <time.h>

#define HEARTBEAT_NS WEFT_MS(10)
#define CHUNK_NS WEFT_US(10)

struct c_plugin {
  weft_scope_t* scope;
  weft_loop_t* loop;    /* the scope's loop handle: everything goes through it */
  exchange* exchange;   /* the host's, borrowed */
  weft_future_t* go;    /* "c.go": the plugin's reference */
  weft_future_t* input; /* the awaited future: the plugin's reference, or NULL */
  int awaited;          /* its callback ran */
  weft_status awaited_status;
  int64_t awaited_value;
  uint64_t heartbeats;
  uint64_t chunks;
};

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* One chunk of background work (10 us of it), then the next one queued:
 * there is always a callback ready, so every frame spends its whole budget
 * and it is weft's job to stop on time. */
static void background_chunk(void* user, weft_status status, const char* message) {
  (void)message;
  c_plugin* p = user;
  if (status != WEFT_OK) return; /* cancelled with the scope: stop */
  uint64_t until = now_ns() + CHUNK_NS;
  while (now_ns() < until) {
  }
  p->chunks++;
  weft_loop_call_soon(p->loop, background_chunk, p); /* fails only once the scope is closed */
}

static void heartbeat(void* user, weft_status status, const char* message) {
  (void)message;
  c_plugin* p = user;
  if (status != WEFT_OK) return; /* cancelled with the scope: stop */
  p->heartbeats++;
  weft_loop_call_later(NULL, p->loop, HEARTBEAT_NS, heartbeat,
                       p); /* fails only once the scope is closed */
}

static void resolve_go(void* user, weft_status status, const char* message) {
  (void)message;
  c_plugin* p = user;
  if (status != WEFT_OK) return; /* cancelled: the scope's cancellation cancels "c.go" too */
  weft_value go = weft_value_int64(C_PLUGIN_GO_VALUE);
  weft_future_resolve(p->go, &go);
}

weft_status c_plugin_load(c_plugin** out, weft_runtime_t* runtime, exchange* exchange,
                          uint64_t go_after_ns) {
  if (out == NULL || runtime == NULL || exchange == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  c_plugin* p = calloc(1, sizeof *p);
  if (p == NULL) return WEFT_ERR_NO_MEMORY;
  p->exchange = exchange;
  weft_status status = weft_scope_create(&p->scope, runtime, "c-plugin");
  if (status == WEFT_OK) status = weft_scope_loop(&p->loop, p->scope);
  if (status == WEFT_OK) status = weft_future_create(&p->go, p->loop);
  if (status == WEFT_OK) status = weft_future_set_name(p->go, "c.go");
  if (status == WEFT_OK) status = exchange_put(exchange, "c.go", p->go);
  if (status == WEFT_OK && go_after_ns != C_PLUGIN_GO_NEVER)
    status = weft_loop_call_later(NULL, p->loop, go_after_ns, resolve_go, p);
  if (status == WEFT_OK) status = weft_loop_call_later(NULL, p->loop, HEARTBEAT_NS, heartbeat, p);
  if (status == WEFT_OK) status = weft_loop_call_soon(p->loop, background_chunk, p);
  if (status != WEFT_OK) {
    /* An exchange entry made above keeps its own reference: "c.go" ends
     * cancelled with the scope and the exchange releases it later. */
    weft_scope_destroy(p->scope); /* nothing ran yet: no callback is left to call into p */
    weft_future_release(p->go);
    free(p);
    return status;
  }
  *out = p;
  return WEFT_OK;
}

static void on_awaited(void* user, weft_future_t* future, weft_status status,
                       const weft_value* value, const char* message) {
  (void)future, (void)message;
  c_plugin* p = user;
  p->awaited_status = status;
  if (status == WEFT_OK && weft_value_get_int64(&p->awaited_value, value) != WEFT_OK)
    p->awaited_status = WEFT_ERR_INVALID_ARGUMENT; /* not an integer */
  p->awaited = 1;
}

weft_status c_plugin_await(c_plugin* p, const char* name) {
  if (p == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  if (p->input != NULL) return WEFT_ERR_INVALID_STATE;
  weft_future_t* input = NULL;
  weft_status status = exchange_get(&input, p->exchange, name);
  if (status != WEFT_OK) return status;
  status = weft_future_retain(input); /* the plugin's own: the exchange's is borrowed */
  if (status != WEFT_OK) return status;
  status = weft_future_then(input, p->loop, on_awaited, p);
  if (status != WEFT_OK) {
    weft_future_release(input);
    return status;
  }
  p->input = input;
  return WEFT_OK;
}

int c_plugin_awaited(const c_plugin* p, weft_status* status, int64_t* value) {
  if (!p->awaited) return 0;
  *status = p->awaited_status;
  *value = p->awaited_value;
  return 1;
}

uint64_t c_plugin_heartbeats(const c_plugin* p) { return p->heartbeats; }

uint64_t c_plugin_chunks(const c_plugin* p) { return p->chunks; }

weft_status c_plugin_unload(c_plugin* p, uint64_t timeout_ns, size_t* left) {
  if (p == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  weft_status status = weft_scope_cancel(p->scope);
  size_t outstanding = 0;
  if (status == WEFT_OK) status = weft_scope_drain(&outstanding, p->scope, timeout_ns);
  if (left != NULL) *left = outstanding;
  if (status != WEFT_OK) return status; /* still loaded: the caller may retry */
  weft_scope_destroy(p->scope);
  weft_future_release(p->go);
  weft_future_release(p->input);
  free(p);
  return WEFT_OK;
}
