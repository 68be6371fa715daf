/* weft.h: weft's C API — an embeddable async runtime (event loop, timers,
 * futures, thread pools, scopes, async I/O) for C programs, game engines and their
 * plugins, and (through SWIG) Python and Lua.
 *
 * THE CONTRACT. The headers under weft/ are weft's published C API: if a
 * function, type or macro does not appear in them, it is not API. Everything
 * here is C99 (and valid C++); nothing throws.
 *
 * Status. Every function that can fail returns a weft_status: WEFT_OK (0) or
 * a negative code; weft_status_str() says what it means. Results come back
 * through out-parameters, which come first; `void* user` comes last. On
 * error, out-parameters are untouched, nothing was created or taken, and no
 * callback of that call will ever run.
 *
 * Bad input never crashes. A NULL handle, a handle of the wrong kind
 * (WEFT_ERR_INVALID_HANDLE), a handle used after it was destroyed or released
 * (WEFT_ERR_STALE_HANDLE: handles carry a generation), a loop-thread call
 * from another thread (WEFT_ERR_WRONG_THREAD), an invalid enum or struct_size
 * (WEFT_ERR_INVALID_ARGUMENT), running a loop from inside its own callback
 * (WEFT_ERR_REENTRANT_RUN): each returns its status, and the optional misuse
 * handler (weft_set_misuse_handler) lets a host abort with the message
 * instead. Using a handle on one thread while another thread destroys it is
 * a race the library cannot catch.
 *
 * One asynchronous model. Every operation that completes later (a timer,
 * a read, a write, a connect, an accept, a DNS lookup, a file operation, a
 * process or signal wait, executor work) has the same shape:
 *
 *   weft_status weft_<op>(weft_future_t** out, <handle>, <args>,
 *                         <callback>, void* user);
 *
 * - `callback(user, status, message, <result>)` is called exactly once, on
 *   the loop thread: WEFT_OK with the result and message NULL, or a failure
 *   status with `message` saying why (the core's words, e.g. "connect
 *   127.0.0.1:9: connection refused (ECONNREFUSED)"); message and result
 *   are borrowed until the callback returns. `callback` may be NULL, but
 *   not together with `out` for an operation that produces a result (a
 *   handle, bytes, a value: WEFT_ERR_INVALID_ARGUMENT, since it would be
 *   lost); writes, sends, shutdowns, drains and syncs may be
 *   fire-and-forget.
 * - `out` may be NULL. If not, *out receives a future for this one
 *   operation (the caller owns a reference; weft_future_release). It
 *   completes with the same outcome just before the callback runs: resolved
 *   with the result as a weft_value (each function says which), or rejected
 *   with the status and message. It joins weft_future_all/any/with_timeout
 *   and weft_future_then like any future.
 * - Cancelling one operation is always weft_future_cancel on its future.
 *   Cancellation is a request, made on the loop thread (posted there from
 *   another thread): the operation completes with WEFT_ERR_CANCELLED if it
 *   could still be stopped, or with its real outcome if that was already
 *   decided, so no result is ever dropped. On the loop thread the call
 *   says which: WEFT_OK (stopped: the callback has run, inside the call) or
 *   WEFT_ERR_ALREADY_COMPLETED (the outcome is on its way). Closing a handle completes its
 *   pending operations with WEFT_ERR_CANCELLED inside the close call.
 * - Durations and deadlines are nanoseconds (uint64_t ..._ns); WEFT_MS(),
 *   WEFT_SEC() and WEFT_US() convert.
 *
 * Threads. Each function says which threads may call it: "any thread",
 * or "loop thread" (see weft/runtime.h). Every callback weft calls runs on
 * its loop's thread — except work functions, which run on pool workers —
 * and is called exactly once, with WEFT_ERR_CANCELLED if its event will
 * never happen. More in capi/docs/threading.md.
 *
 * Ownership. What a function returns through `out` is either owned by the
 * caller (said as "the caller owns *out; free it with ...") or borrowed
 * (valid while its owner lives). Memory weft allocates is freed by weft;
 * data you pass in is copied or borrowed for the call unless a function says
 * it takes it. Create/destroy come in pairs and destroy accepts NULL.
 * Futures are reference-counted. More in capi/docs/ownership.md.
 *
 * Option structs start with `size_t struct_size`; use the ..._INIT macro
 * (or ..._options_init) so that a program built against older headers keeps
 * working with a newer library. A NULL options pointer means defaults.
 *
 * Versions: weft/version.h. Enums are int-sized (..._FORCE32).
 */
#ifndef WEFT_WEFT_H
#define WEFT_WEFT_H

#include "weft/export.h"
#include "weft/status.h"
#include "weft/version.h"
#include "weft/common.h"
#include "weft/value.h"
#include "weft/runtime.h"
#include "weft/loop.h"
#include "weft/future.h"
#include "weft/executor.h"
#include "weft/diagnostics.h"
#include "weft/scope.h"
#include "weft/address.h"
#include "weft/stream.h"
#include "weft/tcp.h"
#include "weft/process.h"
#include "weft/pipe.h"
#include "weft/file.h"
#include "weft/signal.h"
#include "weft/fd.h"
#include "weft/udp.h"
#include "weft/dns.h"
#include "weft/tls.h"

#endif /* WEFT_WEFT_H */
