/* A C plugin for a Python program (examples/python/plugin/main.py loads it
 * with ctypes). Built against weft.h and linked to libweft.so.1, the same
 * library the Python extension weft._capi uses, so the plugin shares the
 * Python program's runtime: its loop and its pool. Everything it schedules
 * goes through the loop handle of its own scope, so unloading it cancels
 * and drains exactly its work before its code goes away.
 *
 * Thread: every function here runs on the runtime's loop thread (the
 * thread that runs the Python program's weft loop), except
 * weft_py_plugin_square_work, which runs on a pool worker.
 * Ownership: weft_py_plugin_load's caller owns the plugin until
 * weft_py_plugin_unload; every `weft_future_t** out` gives the caller one
 * reference. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <weft/weft.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef struct weft_py_plugin {
  weft_scope_t* scope;
  weft_loop_t* loop;       /* the plugin's scope's loop handle */
  weft_executor_t* pool;   /* the runtime's pool, shared with Python */
} weft_py_plugin;

/* Jobs the plugin has allocated and not freed yet (all instances). */
static atomic_long live_jobs;

typedef struct job {
  weft_future_t* out; /* the plugin's own reference to the future it hands out */
  int64_t x;
} job;

static job* job_new(weft_loop_t* loop, weft_future_t** out, int64_t x) {
  job* j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  if (weft_future_create(&j->out, loop) != WEFT_OK) {
    free(j);
    return NULL;
  }
  weft_future_retain(j->out); /* one for the caller, one for the job */
  *out = j->out;
  j->x = x;
  atomic_fetch_add(&live_jobs, 1);
  return j;
}

static void job_free(job* j) {
  weft_future_release(j->out);
  free(j);
  atomic_fetch_sub(&live_jobs, 1);
}

PLUGIN_EXPORT long weft_py_plugin_live_jobs(void) { return atomic_load(&live_jobs); }

/* Loads the plugin into `runtime` (the Python program's): a scope of its
 * own named `name`. */
PLUGIN_EXPORT weft_status weft_py_plugin_load(weft_py_plugin** out, weft_runtime_t* runtime,
                                              const char* name) {
  if (out == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  weft_py_plugin* p = calloc(1, sizeof *p);
  if (p == NULL) return WEFT_ERR_NO_MEMORY;
  weft_status status = weft_scope_create(&p->scope, runtime, name);
  if (status == WEFT_OK) status = weft_scope_loop(&p->loop, p->scope);
  if (status == WEFT_OK) status = weft_runtime_pool(&p->pool, runtime);
  if (status != WEFT_OK) {
    weft_scope_destroy(p->scope);
    free(p);
    return status;
  }
  *out = p;
  return WEFT_OK;
}

/* Cancels everything the plugin has pending, waits up to `timeout_ns` for
 * it to finish (*left: what did not), and frees the plugin. After WEFT_OK
 * nothing can call into the plugin's code any more: it may be dlclose()d. */
PLUGIN_EXPORT weft_status weft_py_plugin_unload(size_t* left, weft_py_plugin* p,
                                                uint64_t timeout_ns) {
  if (p == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  weft_status status = weft_scope_cancel(p->scope);
  if (status == WEFT_OK) status = weft_scope_drain(left, p->scope, timeout_ns);
  if (status != WEFT_OK) return status; /* still loaded: the caller may retry */
  weft_scope_destroy(p->scope);
  free(p);
  return WEFT_OK;
}

/* Unloading from inside the loop (a coroutine on weft.Loop runs inside a
 * loop callback, where the loop cannot be run to drain): cancel, let the
 * loop finish what is outstanding, then free. */
PLUGIN_EXPORT weft_status weft_py_plugin_cancel(weft_py_plugin* p) {
  return p == NULL ? WEFT_ERR_INVALID_ARGUMENT : weft_scope_cancel(p->scope);
}

static void count_outstanding(void* user, const weft_object_info* info) {
  *(size_t*)user += info->count;
}

/* How many things the plugin's scope still has outstanding. */
PLUGIN_EXPORT weft_status weft_py_plugin_outstanding(size_t* out, weft_py_plugin* p) {
  if (out == NULL || p == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  *out = 0;
  return weft_scope_list(p->scope, count_outstanding, out);
}

/* Frees a cancelled plugin with nothing outstanding (WEFT_ERR_INVALID_STATE
 * otherwise: it stays loaded). */
PLUGIN_EXPORT weft_status weft_py_plugin_free(weft_py_plugin* p) {
  size_t left = 0;
  weft_status status = weft_py_plugin_outstanding(&left, p);
  if (status != WEFT_OK) return status;
  if (left != 0) return WEFT_ERR_INVALID_STATE;
  weft_scope_destroy(p->scope);
  free(p);
  return WEFT_OK;
}

static void square_now(void* user, weft_status status, const char* message) {
  job* j = user;
  if (status == WEFT_OK) {
    weft_value v = weft_value_int64(j->x * j->x);
    weft_future_resolve(j->out, &v);
  } else {
    weft_future_reject(j->out, status, message); /* cancelled with the scope: already done */
  }
  job_free(j);
}

/* A future resolved with x*x after `delay_ns`, by a timer in the plugin's
 * scope. */
PLUGIN_EXPORT weft_status weft_py_plugin_square_later(weft_future_t** out, weft_py_plugin* p,
                                                      int64_t x, uint64_t delay_ns) {
  if (out == NULL || p == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  job* j = job_new(p->loop, out, x);
  if (j == NULL) return WEFT_ERR_NO_MEMORY;
  weft_status status = weft_loop_call_later(NULL, p->loop, delay_ns, square_now, j);
  if (status != WEFT_OK) {
    weft_future_release(j->out); /* the caller's reference: it never got it */
    job_free(j);
  }
  return status;
}

/* A C work function: x*x on a pool worker, never touching Python. `user`
 * carries x. Also handed to Python's weft.capi.weft_executor_submit by
 * address. */
PLUGIN_EXPORT weft_status weft_py_plugin_square_work(void* user, weft_value* result) {
  int64_t x = (int64_t)(intptr_t)user;
  *result = weft_value_int64(x * x);
  return WEFT_OK;
}

/* x*x computed on the shared pool; the future belongs to the plugin's scope. */
PLUGIN_EXPORT weft_status weft_py_plugin_square_on_pool(weft_future_t** out, weft_py_plugin* p,
                                                        int64_t x) {
  if (out == NULL || p == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  return weft_executor_submit(out, p->pool, p->loop, weft_py_plugin_square_work, NULL,
                              (void*)(intptr_t)x);
}

static void double_input(void* user, weft_future_t* input, weft_status status,
                         const weft_value* value, const char* message) {
  (void)input;
  job* j = user;
  int64_t n = 0;
  if (status == WEFT_OK && weft_value_get_int64(&n, value) == WEFT_OK) {
    weft_value v = weft_value_int64(2 * n);
    weft_future_resolve(j->out, &v);
  } else if (status == WEFT_OK) {
    weft_future_reject(j->out, WEFT_ERR_INVALID_ARGUMENT, "the input did not resolve with an integer");
  } else {
    weft_future_reject(j->out, status, message); /* passes the failure on */
  }
  job_free(j);
}

/* Waits for `input` (any weft future: e.g. a Python coroutine's, through
 * weft.Future.from_awaitable) and resolves its own future with twice its
 * integer value. Cancelling the plugin's scope cancels the wait. */
PLUGIN_EXPORT weft_status weft_py_plugin_double_when(weft_future_t** out, weft_py_plugin* p,
                                                     weft_future_t* input) {
  if (out == NULL || p == NULL) return WEFT_ERR_INVALID_ARGUMENT;
  job* j = job_new(p->loop, out, 0);
  if (j == NULL) return WEFT_ERR_NO_MEMORY;
  weft_status status = weft_future_then(input, p->loop, double_input, j);
  if (status != WEFT_OK) {
    weft_future_release(j->out);
    job_free(j);
  }
  return status;
}
