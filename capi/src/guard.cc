#include "capi/src/guard.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "capi/src/precheck.h"
#include "weft/diagnostics.h"

namespace weft::capi {

namespace {

std::mutex g_misuse_mutex;
weft_misuse_handler g_misuse_handler = nullptr;  // guarded
void* g_misuse_user = nullptr;                    // guarded

bool is_misuse(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument:
    case Errc::invalid_state:
    case Errc::wrong_thread:
    case Errc::reentrant_run:
    case Errc::invalid_handle:
    case Errc::stale_handle:
      return true;
    default:
      return false;
  }
}

// The message without a leading "<function>: " or "<function> ": the
// handler gets the function's name on its own, and a message that repeats it
// reads "weft_loop_run: weft_loop_run: mode 9 ...".
const char* without_function_name(const char* function, const char* message) noexcept {
  if (function[0] == '\0' || message[0] != function[0]) return message;  // most messages
  const std::size_t length = std::strlen(function);
  if (std::strncmp(message, function, length) != 0) return message;
  const char* rest = message + length;
  if (rest[0] == ':' && rest[1] == ' ') return rest + 2;
  if (rest[0] == ' ') return rest + 1;
  return message;
}

// The handler in place when the host installed none: one line on stderr.
void default_misuse_handler(void*, const char* function, weft_status status, const char* message) {
  std::fprintf(stderr, "weft: misuse: %s: %s (%s)\n", function, message, weft_status_name(status));
}

void report_misuse(const char* function, Errc code, const char* message) noexcept {
  weft_misuse_handler handler;
  void* user;
  {
    std::lock_guard<std::mutex> lock(g_misuse_mutex);
    handler = g_misuse_handler;
    user = g_misuse_user;
  }
  if (handler == nullptr) handler = default_misuse_handler;
  try {
    handler(user, function, to_status(code), without_function_name(function, message));
  } catch (...) {
    // A C++ host's handler threw: it must not cross back into C.
  }
}

}  // namespace

void fail(Errc code, const char* message) { throw Exception(code, message); }
void fail(Errc code, const std::string& message) { throw Exception(code, message); }

weft_status status_from_error(const char* function, const Error& error) noexcept {
  try {
    Errc code = error.code() == Errc::ok ? Errc::unknown : error.code();
    if (is_misuse(code)) report_misuse(function, code, error.c_message());
    return to_status(code);
  } catch (...) {
    // Building the message failed (out of memory): the code alone.
    return to_status(Errc::no_memory);
  }
}

weft_status status_from_exception(const char* function) noexcept {
  try {
    Error error = error_from_current_exception();
    Errc code = error.code() == Errc::ok ? Errc::unknown : error.code();
    if (is_misuse(code)) report_misuse(function, code, error.c_message());
    return to_status(code);
  } catch (...) {
    // Building the message failed (out of memory): the code alone.
    return to_status(Errc::no_memory);
  }
}

namespace {

// Why `handle` is not a live handle of `kind`: the code, and the message
// in `message` (`what` is a short name from this library: it fits).
constexpr std::size_t kLookupMessageSize = 160;
Errc lookup_failure(const void* handle, Kind kind, const char* what, char (&message)[kLookupMessageSize]) {
  HandleError error = HandleError::none;
  lookup_handle(handle, kind, error);
  const char* why = " was destroyed or released";
  Errc code = Errc::stale_handle;
  switch (error) {
    case HandleError::null:
      why = " is NULL";
      code = Errc::invalid_handle;
      break;
    case HandleError::not_a_handle:
      why = " is not a weft handle";
      code = Errc::invalid_handle;
      break;
    case HandleError::wrong_kind:
      why = " is a handle of another kind";
      code = Errc::invalid_handle;
      break;
    case HandleError::stale:
    case HandleError::none:
      break;
  }
  // "<what> (<kind>)<why>", cut to fit as snprintf would, without a format
  // to parse: every misuse of a handle is reported with one.
  std::size_t n = 0;
  for (const char* part : {what, " (", kind_name(kind), ")", why}) {
    const std::size_t length = std::strlen(part);
    const std::size_t take = length < sizeof message - 1 - n ? length : sizeof message - 1 - n;
    std::memcpy(message + n, part, take);
    n += take;
  }
  message[n] = '\0';
  return code;
}

}  // namespace

void fail_lookup(const void* handle, Kind kind, const char* what) {
  char message[kLookupMessageSize];
  const Errc code = lookup_failure(handle, kind, what, message);
  fail(code, message);
}

void fail_null(const char* what) {
  char message[kLookupMessageSize];  // `what` is a short name from this library: it fits
  std::snprintf(message, sizeof message, "%s is NULL", what);
  fail(Errc::invalid_argument, message);
}

weft_status reject(const char* function, Errc code, const char* message) noexcept {
  // fail(code, message) keeps a non-empty message as it is (Error), which
  // status_from_error hands to the misuse handler.
  if (is_misuse(code)) report_misuse(function, code, message);
  return to_status(code);
}

weft_status reject_lookup(const char* function, const void* handle, Kind kind, const char* what) noexcept {
  char message[kLookupMessageSize];
  const Errc code = lookup_failure(handle, kind, what, message);
  return reject(function, code, message);
}

void check_struct_size(const void* options, std::size_t given, std::size_t min_size,
                       std::size_t known, const char* what) {
  if (given < min_size) {
    fail(Errc::invalid_argument, std::string(what) + ".struct_size " + std::to_string(given) +
                                     " is smaller than any published version (" +
                                     std::to_string(min_size) + ")");
  }
  if (given > min_size && given < known) {
    fail(Errc::invalid_argument, std::string(what) + ".struct_size " + std::to_string(given) +
                                     " is not the size of any published version (" +
                                     std::to_string(min_size) + " or " + std::to_string(known) + ")");
  }
  if (given > known) {
    const unsigned char* bytes = static_cast<const unsigned char*>(options);
    for (std::size_t i = known; i < given; ++i) {
      if (bytes[i] != 0) {
        fail(Errc::invalid_argument,
             std::string(what) + ".struct_size " + std::to_string(given) +
                 " is from newer headers and sets fields this library does not know");
      }
    }
  }
}

void check_out_struct_size(std::size_t given, std::size_t min_size, const char* what) {
  if (given < min_size) {
    fail(Errc::invalid_argument, std::string(what) + ".struct_size " + std::to_string(given) +
                                     " is smaller than any published version (" +
                                     std::to_string(min_size) + ")");
  }
}

void init_options(void* options, std::size_t struct_size, const void* defaults, std::size_t min_size,
                  std::size_t known, const char* what) {
  require(options, what);
  // A size below the struct's first published version is no version at all.
  if (struct_size < min_size) {
    fail(Errc::invalid_argument, std::string(what) + ": struct_size " + std::to_string(struct_size) +
                                     " is smaller than any published version (" +
                                     std::to_string(min_size) + ")");
  }
  if (struct_size > min_size && struct_size < known) {
    fail(Errc::invalid_argument, std::string(what) + ": struct_size " + std::to_string(struct_size) +
                                     " is not the size of any published version (" +
                                     std::to_string(min_size) + " or " + std::to_string(known) + ")");
  }
  std::memset(options, 0, struct_size);
  std::memcpy(options, defaults, struct_size < known ? struct_size : known);
  std::memcpy(options, &struct_size, sizeof(struct_size));
}

SpinPolicy spin_policy(const weft_spin_mode& mode, const char* what) {
  switch (raw_enum(mode)) {
    case WEFT_SPIN_ADAPTIVE: return SpinPolicy::adaptive;
    case WEFT_SPIN_OFF: return SpinPolicy::off;
    default: break;
  }
  fail(Errc::invalid_argument,
       std::string(what) + " " + std::to_string(raw_enum(mode)) + " is not a weft_spin_mode");
}

}  // namespace weft::capi

extern "C" {

WEFT_API weft_status weft_set_misuse_handler(weft_misuse_handler handler, void* user) {
  return weft::capi::api(__func__, [&] {
    std::lock_guard<std::mutex> lock(weft::capi::g_misuse_mutex);
    weft::capi::g_misuse_handler = handler;
    weft::capi::g_misuse_user = user;
    return WEFT_OK;
  });
}

}  // extern "C"
