/* weft/diagnostics.h: counters, the error handler, the misuse handler, and
 * listing what is alive (a dump of futures, timers, work and scopes).
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_DIAGNOSTICS_H
#define WEFT_DIAGNOSTICS_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

/* Counters of a runtime. Set struct_size (WEFT_STATS_INIT); weft fills the
 * fields that fit. The first group counts since creation, the second is the
 * state now. */
typedef struct weft_stats {
  size_t struct_size;
  uint64_t callbacks_run;     /* loop callbacks run, all kinds */
  uint64_t threadsafe_posts;  /* callbacks that arrived from other threads */
  uint64_t timers_armed;
  uint64_t timers_fired;
  uint64_t timers_cancelled;
  uint64_t iterations;        /* passes of the loop */
  uint64_t futures_created;
  uint64_t work_submitted;
  uint64_t errors_reported;   /* events given to the error handler */
  size_t ready;               /* callbacks ready to run */
  size_t timers_pending;
  size_t futures_alive;       /* futures not yet freed */
  size_t futures_pending;     /* of which not completed */
  size_t work_pending;        /* submitted work not finished */
  size_t scopes;              /* scopes alive, the root scope included */
  size_t executors;           /* pools and strands, the default pool included */
  size_t bytes_allocated;     /* held from the runtime's allocator now */
} weft_stats;

#define WEFT_STATS_INIT { sizeof(weft_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Reads the runtime's counters. Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_runtime_stats(weft_stats* out, weft_runtime_t* runtime);

typedef enum weft_event_kind {
  /* A C++ exception escaped a callback; the loop went on. */
  WEFT_EVENT_CALLBACK_EXCEPTION = 0,
  /* A callback ran longer than weft_runtime_options.slow_callback_ns. */
  WEFT_EVENT_SLOW_CALLBACK = 1,
  /* Destroying the runtime dropped callbacks that kept re-posting. */
  WEFT_EVENT_DROPPED_CALLBACKS = 2,
  /* A future was rejected and freed without anyone looking at the failure
   * (no callback, no weft_future_result): asyncio's "exception was never
   * retrieved". */
  WEFT_EVENT_UNOBSERVED_FAILURE = 3,
  WEFT_EVENT_KIND_FORCE32 = 0x7FFFFFFF
} weft_event_kind;

/* What the error handler gets. Valid during the handler call only. */
typedef struct weft_event {
  size_t struct_size;
  weft_event_kind kind;
  weft_status status;    /* the failure, if the event has one; else WEFT_OK */
  const char* message;   /* never NULL */
  const char* scope;     /* the scope involved, or NULL */
  uint64_t duration_ns;  /* WEFT_EVENT_SLOW_CALLBACK: how long it ran */
} weft_event;

/* Receives the runtime's error events, on the loop thread. Must not call
 * weft_runtime_destroy. */
typedef void (*weft_error_handler)(void* user, const weft_event* event);

/* Installs the runtime's error handler; NULL restores the default, which
 * writes one line per event to stderr.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_runtime_set_error_handler(weft_runtime_t* runtime,
                                                    weft_error_handler handler, void* user);

/* Called when a weft function is misused — a NULL, stale or wrong-kind
 * handle, a call from the wrong thread, an invalid argument or enum, a wrong
 * struct_size, a loop run from its own callback — just before that function
 * returns the status. `function` is the API function's name, `message` says
 * what was wrong; both are valid during the call. A host that prefers to
 * crash early aborts here. Must not call weft (it may run on any thread,
 * with no runtime known). */
typedef void (*weft_misuse_handler)(void* user, const char* function, weft_status status,
                                    const char* message);

/* Installs the process-wide misuse handler (misuse may involve no runtime at
 * all, e.g. a NULL handle); NULL restores the default, which writes one line
 * per misuse to stderr ("weft: misuse: <function>: <message> (<status>)").
 * To silence it, install a handler that does nothing. Thread: any thread.
 * Since 0.1. */
WEFT_API weft_status weft_set_misuse_handler(weft_misuse_handler handler, void* user);

typedef enum weft_object_kind {
  WEFT_OBJECT_SCOPE = 0,
  WEFT_OBJECT_EXECUTOR = 1,
  WEFT_OBJECT_FUTURE = 2,          /* a future whose callbacks have not run yet: state
                                      "pending", or "completed"/"cancelled" until they run */
  WEFT_OBJECT_TIMER = 3,           /* a pending timer */
  WEFT_OBJECT_CALLBACKS = 4,       /* queued loop callbacks (count) */
  WEFT_OBJECT_FUTURE_CALLBACK = 5, /* a callback waiting on a future */
  WEFT_OBJECT_WORK = 6,            /* submitted work not finished */
  WEFT_OBJECT_TCP_OPERATION = 7,   /* a pending TCP operation, named "accept", "read", ... (since 0.2) */
  WEFT_OBJECT_IO_OPERATION = 8,    /* another pending I/O operation (pipe, UDP, DNS, file, signal,
                                      process), named "read", "resolve", ... (since 0.3) */
  WEFT_OBJECT_KIND_FORCE32 = 0x7FFFFFFF
} weft_object_kind;

/* One live object, as listed by weft_runtime_dump and weft_scope_list.
 * Strings are valid during the visitor call only. */
typedef struct weft_object_info {
  size_t struct_size;
  weft_object_kind kind;
  const char* scope; /* the scope it belongs to */
  const char* name;  /* a future's name, a scope's name, or "" */
  const char* state; /* "pending", "queued", "running", "cancelled", ... */
  size_t count;      /* how many this entry stands for (1 but for CALLBACKS) */
} weft_object_info;

typedef void (*weft_object_visitor)(void* user, const weft_object_info* info);

/* Calls `visit` once for each scope and executor of the runtime and each
 * thing still outstanding in a scope (futures whose callbacks have not run, pending
 * timers, queued callbacks, waiting future callbacks, unfinished work,
 * pending I/O operations). The visitor must not
 * call weft functions that create or destroy anything.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_runtime_dump(weft_runtime_t* runtime, weft_object_visitor visit,
                                       void* user);

/* The same dump as text, one object per line, written to `buffer` (always
 * NUL-terminated when capacity > 0, truncated to fit). *length (if not
 * NULL) receives the full length without the NUL, as snprintf does, so a
 * caller can size a second call.
 * Thread: loop thread. Since 0.1. */
WEFT_API weft_status weft_runtime_dump_text(char* buffer, size_t capacity, size_t* length,
                                            weft_runtime_t* runtime);

WEFT_EXTERN_C_END

#endif /* WEFT_DIAGNOSTICS_H */
