// The exported weft_<name>_options_init functions (and
// weft_stream_limits_init): for hosts that bind by symbol (ctypes, LuaJIT FFI,
// SWIG) and cannot use the ..._INIT macros. Each fills the caller's struct
// with its macro's values for a struct of `struct_size` bytes (see
// init_options in guard.h). Any thread.
#include <cstddef>
#include <type_traits>

#include "capi/src/guard.h"
#include "weft/weft.h"

namespace {

// `first_size`: the struct's size in the first version that published it
// (by default its size now: it has not grown since).
template <class Options>
weft_status init(const char* function, Options* options, size_t struct_size, const Options& defaults,
                 size_t first_size = sizeof(Options)) {
  return weft::capi::api(function, [&] {
    weft::capi::init_options(options, struct_size, &defaults, first_size, sizeof defaults,
                             std::is_same_v<Options, weft_stream_limits> ? "limits" : "options");
    return WEFT_OK;
  });
}

}  // namespace

extern "C" {

WEFT_API weft_status weft_file_options_init(weft_file_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_file_options WEFT_FILE_OPTIONS_INIT);
}

WEFT_API weft_status weft_pipe_listen_options_init(weft_pipe_listen_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_pipe_listen_options WEFT_PIPE_LISTEN_OPTIONS_INIT);
}

WEFT_API weft_status weft_pool_options_init(weft_pool_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_pool_options WEFT_POOL_OPTIONS_INIT,
              weft::capi::kPoolOptionsSize1_0);
}

WEFT_API weft_status weft_process_options_init(weft_process_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_process_options WEFT_PROCESS_OPTIONS_INIT);
}

WEFT_API weft_status weft_resolve_options_init(weft_resolve_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_resolve_options WEFT_RESOLVE_OPTIONS_INIT);
}

WEFT_API weft_status weft_runtime_options_init(weft_runtime_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_runtime_options WEFT_RUNTIME_OPTIONS_INIT,
              weft::capi::kRuntimeOptionsSize1_0);
}

WEFT_API weft_status weft_stream_limits_init(weft_stream_limits* limits, size_t struct_size) {
  return init(__func__, limits, struct_size, weft_stream_limits WEFT_STREAM_LIMITS_INIT);
}

WEFT_API weft_status weft_tcp_listen_options_init(weft_tcp_listen_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_tcp_listen_options WEFT_TCP_LISTEN_OPTIONS_INIT);
}

WEFT_API weft_status weft_udp_bind_options_init(weft_udp_bind_options* options, size_t struct_size) {
  return init(__func__, options, struct_size, weft_udp_bind_options WEFT_UDP_BIND_OPTIONS_INIT);
}

}  // extern "C"
