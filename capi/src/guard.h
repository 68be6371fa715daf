// The one place where C++ failures become C statuses.
//
// Every exported function's body runs inside api(name, body): the body
// returns a weft_status for outcomes that are not errors in the caller's use
// (WEFT_OK, WEFT_ERR_ALREADY_COMPLETED, WEFT_ERR_NOT_READY, ...) and throws
// for everything else — fail(code, message) for misuse and refusals,
// std::bad_alloc for memory, and whatever user code or the core throws.
// api() catches all of it and converts it through status_from_exception, so
// no exception or std::terminate ever crosses extern "C". A misuse status
// (bad handle, wrong thread, invalid argument, reentrant run, invalid state)
// is also reported to the process's misuse handler (default: a line on
// stderr), with the function name and the message; a message that begins
// with the function's name is handed over without it.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>

#include "capi/src/handles.h"
#include "core/errc.h"
#include "core/error.h"
#include "core/spin_policy.h"
#include "weft/common.h"
#include "weft/executor.h"
#include "weft/runtime.h"
#include "weft/status.h"

namespace weft::capi {

inline weft_status to_status(Errc code) noexcept { return static_cast<weft_status>(-static_cast<int>(code)); }

// Whether `status` is WEFT_OK or one of the table's failure codes.
bool is_table_status(weft_status status) noexcept;

// Throws weft::Exception(code, message).
[[noreturn]] void fail(Errc code, const char* message);
[[noreturn]] void fail(Errc code, const std::string& message);

// The status for the exception being handled (call inside a catch block);
// reports misuse to the misuse handler as coming from `function`.
weft_status status_from_exception(const char* function) noexcept;

// The status for a weft::Exception caught from `function` (reported to the
// misuse handler if it is misuse): what status_from_exception says for it,
// without rethrowing it to find its type.
weft_status status_from_error(const char* function, const Error& error) noexcept;

template <class Body>
weft_status api(const char* function, Body&& body) noexcept {
  try {
    return body();
  } catch (const Exception& e) {
    return status_from_error(function, e.error());
  } catch (...) {
    return status_from_exception(function);
  }
}

// Fails with invalid_handle / stale_handle, saying why (the slow path of
// lookup).
[[noreturn, gnu::cold, gnu::noinline]] void fail_lookup(const void* handle, Kind kind, const char* what);

// Looks up a handle or fails. The hot path is a few loads and compares.
template <class T>
[[gnu::always_inline]] inline T& lookup(const void* handle, Kind kind, const char* what = "handle") {
  HandleError error = HandleError::none;
  void* object = lookup_handle(handle, kind, error);
  if (object == nullptr) [[unlikely]] fail_lookup(handle, kind, what);
  return *static_cast<T*>(object);
}

// The integer a caller put in a C enum. In C++ an enum whose enumerators are
// all non-negative cannot hold, say, -1 (loading one is undefined), while a
// C caller can pass anything: read the bits, then compare integers.
template <class E>
int raw_enum(const E& value) noexcept {
  static_assert(sizeof(E) == sizeof(int), "weft's C enums are int-sized (..._FORCE32)");
  int bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

[[noreturn, gnu::cold, gnu::noinline]] void fail_null(const char* what);

// Fails with invalid_argument if `p` is NULL.
[[gnu::always_inline]] inline void require(const void* p, const char* what) {
  if (p == nullptr) [[unlikely]] fail_null(what);
}

// Checks an option struct's struct_size: `min_size` (the struct's first
// published size), `known` (this library's), or larger with only zero bytes
// beyond `known` (a newer caller that set nothing we do not know). The
// structs grew once at most, so any size in between is no version at all.
void check_struct_size(const void* options, std::size_t given, std::size_t min_size,
                       std::size_t known, const char* what);

// An out-struct's struct_size (weft_run_report, weft_stats): at least the
// first published size; weft writes the fields that fit (a larger struct
// from newer headers keeps its tail as it was).
void check_out_struct_size(std::size_t given, std::size_t min_size, const char* what);

// weft_..._options_init: checks `options` and `struct_size` (`min_size`,
// the first published size, `known`, or larger), zeroes the caller's struct, copies
// the defaults that fit (of the `known` bytes this library has) and sets
// struct_size.
void init_options(void* options, std::size_t struct_size, const void* defaults, std::size_t min_size,
                  std::size_t known, const char* what);

// The sizes of the option structs that grew since 1.0, as 1.0 published
// them (each ended where its first later field begins).
inline constexpr std::size_t kRuntimeOptionsSize1_0 = offsetof(weft_runtime_options, spin);
inline constexpr std::size_t kPoolOptionsSize1_0 = offsetof(weft_pool_options, spin);

// A SpinPolicy from a weft_spin_mode an option struct holds; invalid_argument
// (naming `what`) for a value that is not one.
SpinPolicy spin_policy(const weft_spin_mode& mode, const char* what);

}  // namespace weft::capi
