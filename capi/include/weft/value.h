/* weft/value.h: weft_value, the small tagged value that futures carry
 * between languages — none, bool, int64, double, bytes, string, or an opaque
 * pointer with a destructor.
 *
 * Ownership:
 * - A weft_value you build (weft_value_int64(42), weft_value_string("hi"))
 *   only points at your data; building one allocates nothing.
 * - Handing a value to weft (weft_future_resolve, a work function's result)
 *   copies bytes and strings during the call. A POINTER value's ownership
 *   passes to weft when the call succeeds: weft calls `destroy(ptr)` (if not
 *   NULL) exactly once, when the last future holding the value is freed, on
 *   whichever thread frees it. If the call fails, nothing was taken.
 * - A value weft hands out (a future callback's `value`, weft_future_result)
 *   is borrowed: its bytes and pointer stay valid while you hold a reference
 *   to the future they came from (during a callback: until it returns, unless
 *   you retain the future). Copy what you need longer.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_VALUE_H
#define WEFT_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "weft/export.h"
#include "weft/status.h"

WEFT_EXTERN_C_BEGIN

typedef enum weft_value_kind {
  WEFT_VALUE_NONE = 0,
  WEFT_VALUE_BOOL = 1,
  WEFT_VALUE_INT64 = 2,
  WEFT_VALUE_DOUBLE = 3,
  WEFT_VALUE_BYTES = 4,   /* as.bytes: `size` bytes at `data` */
  WEFT_VALUE_STRING = 5,  /* as.bytes: text (UTF-8 by convention); weft's copies
                             end with a NUL not counted in `size` */
  WEFT_VALUE_POINTER = 6, /* as.pointer: opaque; `destroy` frees it (or NULL) */
  WEFT_VALUE_KIND_FORCE32 = 0x7FFFFFFF
} weft_value_kind;

/* Frees an opaque pointer value. Must not call back into weft. */
typedef void (*weft_destroy_fn)(void* pointer);

typedef struct weft_bytes {
  const void* data; /* may be NULL only when size is 0 */
  size_t size;
} weft_bytes;

typedef struct weft_opaque {
  void* pointer;
  weft_destroy_fn destroy;
} weft_opaque;

typedef union weft_value_as {
  int boolean; /* 0 or 1 */
  int64_t int64;
  double f64;
  weft_bytes bytes;    /* BYTES and STRING */
  weft_opaque pointer; /* POINTER */
} weft_value_as;

typedef struct weft_value {
  weft_value_kind kind;
  weft_value_as as;
} weft_value;

/* Builders: fill a weft_value; they allocate and copy nothing. Thread: any thread.
 * Since 0.1. */
WEFT_API weft_value weft_value_none(void);
WEFT_API weft_value weft_value_bool(int value);
WEFT_API weft_value weft_value_int64(int64_t value);
WEFT_API weft_value weft_value_double(double value);
/* `data` is borrowed until the value is handed to weft (which copies it). */
WEFT_API weft_value weft_value_bytes(const void* data, size_t size);
/* A NUL-terminated string; NULL means "". Borrowed like bytes. */
WEFT_API weft_value weft_value_string(const char* text);
/* Ownership of `pointer` passes to weft once the value is accepted. */
WEFT_API weft_value weft_value_pointer(void* pointer, weft_destroy_fn destroy);

/* Readers: copy one field out, or WEFT_ERR_INVALID_ARGUMENT if `value` is
 * NULL or of another kind (STRING and BYTES both read as bytes). Useful for
 * bindings. Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_value_get_bool(int* out, const weft_value* value);
WEFT_API weft_status weft_value_get_int64(int64_t* out, const weft_value* value);
WEFT_API weft_status weft_value_get_double(double* out, const weft_value* value);
WEFT_API weft_status weft_value_get_bytes(const void** data, size_t* size,
                                          const weft_value* value);
WEFT_API weft_status weft_value_get_pointer(void** out, const weft_value* value);

WEFT_EXTERN_C_END

#endif /* WEFT_VALUE_H */
