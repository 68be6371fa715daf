/* weft.i: the SWIG interface over weft's C API (weft/weft.h), shared by every
 * language; per-language glue lives in bindings/<language>/.
 *
 * What the interface maps, in one place:
 * - weft_status: WEFT_OK returns normally; anything else raises weft.Error
 *   (Python), carrying the status, its name and its message.
 * - `T** out` handles come back as return values.
 * - Callbacks (function pointer + void* user) take the language's callables.
 *   weft calls each exactly once (with WEFT_ERR_CANCELLED if it never gets
 *   its turn), which is when the binding drops its reference to the
 *   callable; if the C call fails, the binding drops it at once.
 * - weft_value converts to and from the language's values: None, bool, int,
 *   float, bytes, str; any other object travels as a POINTER value that
 *   holds a reference to it.
 * - weft_callback takes callable(status, message) (message None with
 *   WEFT_OK) or None; operations return their optional future (`out`),
 *   which the caller releases (weft_future_release) and cancels the
 *   operation with (weft_future_cancel).
 *
 * Python wraps every function of weft.h (bindings/python/weft_python.i);
 * other languages skip, for now, the functions that take C function
 * pointers other than operation callbacks. */
#if defined(SWIGPYTHON)
/* Python: the raw C API is the module weft.capi (an extension weft._capi
 * underneath); the package weft builds the Pythonic layer on it. */
%module(package="weft") capi
#else
%module weft
#endif

%{
#include "weft/weft.h"
%}

%include <stdint.i>
%include <typemaps.i>

#if defined(SWIGPYTHON)
%include "python/weft_python.i"
#elif defined(SWIGLUA)
%include "lua/weft_lua.i"
#endif

#if !defined(SWIGPYTHON)
/* Not wrapped yet outside Python: they take C function pointers or C
 * structs of them. */
%ignore weft_executor_submit;
%ignore weft_runtime_set_error_handler;
%ignore weft_set_misuse_handler;
%ignore weft_runtime_dump;
%ignore weft_scope_list;
%ignore weft_allocator;
%ignore weft_runtime_options::allocator;
%ignore weft_value_pointer;
%ignore weft_opaque;
%ignore weft_value_get_pointer;
%ignore weft_value_get_bytes;
%ignore weft_loop_set_wait_hook;
#endif

%include "weft/export.h"
%include "weft/status.h"
%include "weft/version.h"
%include "weft/common.h"
%include "weft/value.h"
%include "weft/runtime.h"
%include "weft/loop.h"
%include "weft/future.h"
%include "weft/executor.h"
%include "weft/diagnostics.h"
%include "weft/scope.h"
#if defined(SWIGPYTHON)
/* The I/O headers: Python wraps them too (every function of weft.h). */
%include "weft/address.h"
%include "weft/stream.h"
%include "weft/tcp.h"
%include "weft/process.h"
%include "weft/pipe.h"
%include "weft/file.h"
%include "weft/signal.h"
%include "weft/udp.h"
%include "weft/dns.h"
%include "weft/fd.h"
%include "weft/tls.h"
#endif
