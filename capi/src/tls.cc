// weft/tls.h over core/io/tls_context.h and tls_stream.h: TLS contexts as
// I/O records of their scope (Kind::tls_context), and the handshakes that
// turn a stream handle into a TLS stream handle (Kind::tls_stream, a
// StreamRec, so weft_stream_* take it). Loop thread only.
//
// A handshake takes the core stream out of its record and ends that handle
// inside start() (see start_io_op): only once everything the operation needs
// is allocated, so a refused call leaves the caller's stream as it was.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "capi/src/guard.h"
#include "capi/src/io.h"
#include "capi/src/ns.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "capi/src/stream.h"
#include "core/io/tls_context.h"
#include "core/io/tls_stream.h"
#include "weft/tls.h"

namespace weft::capi {

namespace {

struct TlsContextRec final : IoRec {
  TlsContext core;
  void close_core() noexcept override { core = TlsContext(); }
  void destroy() noexcept override { allocator_of(*runtime).destroy(this); }
};

TlsContextRec& context_of(const void* handle, const char* function) {
  return static_cast<TlsContextRec&>(io_of(handle, Kind::tls_context, "context", function));
}

std::string text_of(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

TlsContextOptions core_options(const weft_tls_context_options& o, bool server) {
  TlsContextOptions core;
  switch (raw_enum(o.verify)) {
    case WEFT_TLS_VERIFY_DEFAULT: core.verify_peer = !server; break;
    case WEFT_TLS_VERIFY_PEER: core.verify_peer = true; break;
    case WEFT_TLS_VERIFY_NONE: core.verify_peer = false; break;
    default:
      fail(Errc::invalid_argument,
           "options.verify " + std::to_string(raw_enum(o.verify)) + " is not a weft_tls_verify");
  }
  core.ca_file = text_of(o.ca_file);
  core.ca_pem = text_of(o.ca_pem);
  core.cert_file = text_of(o.cert_file);
  core.key_file = text_of(o.key_file);
  core.cert_pem = text_of(o.cert_pem);
  core.key_pem = text_of(o.key_pem);
  if (o.alpn_count > 0) require(o.alpn, "options.alpn");
  if (o.alpn_count > 1000) fail(Errc::invalid_argument, "options.alpn_count is above 1000");
  for (std::size_t i = 0; i < o.alpn_count; ++i) {
    if (o.alpn[i] == nullptr) fail(Errc::invalid_argument, "options.alpn[" + std::to_string(i) + "] is NULL");
    core.alpn.emplace_back(o.alpn[i]);
  }
  if (o.handshake_timeout_ns == UINT64_MAX) {
    core.handshake_timeout = Duration::zero();
  } else if (o.handshake_timeout_ns != 0) {
    core.handshake_timeout = duration_of_ns(o.handshake_timeout_ns);
  }
  return core;
}

// Starts a handshake over the stream behind `stream_handle`; see the top of
// this file.
void start_handshake(weft_future_t** out, weft_stream_t* stream_handle, weft_tls_context_t* context,
                     bool server, const char* server_name, weft_stream_callback callback, void* user,
                     const char* function) {
  StreamRec& rec = stream_of(stream_handle, function);
  TlsContextRec& ctx = context_of(context, function);
  require_observer(out, reinterpret_cast<const void*>(callback));
  if (ctx.runtime != rec.runtime) {
    fail(Errc::invalid_argument, std::string(function) + ": the stream and the context belong to different runtimes");
  }
  if (ctx.core.is_server() != server) {
    fail(Errc::invalid_argument, server ? "weft_tls_accept needs a server context (WEFT_TLS_SERVER)"
                                        : "weft_tls_connect needs a client context (WEFT_TLS_CLIENT)");
  }
  if (!rec.ops.empty()) fail(Errc::invalid_state, "operations are pending on the stream");
  if (!rec.stream().is_open()) fail(Errc::closed, "the stream is closed");
  rec.scope->require_open(function);
  Scope& scope = *rec.scope;
  const TlsContext core_context = ctx.core;
  TlsConnectOptions options;
  options.server_name = text_of(server_name);
  start_new_stream_op(
      scope, *rec.runtime, nullptr, server ? "tls_accept" : "tls_connect",
      [&] {
        // A refusal throws before the core takes the stream: the handle stays
        // the caller's, unchanged.
        Future<TlsStream> started = server ? TlsStream::accept(std::move(rec.stream()), core_context)
                                           : TlsStream::connect(std::move(rec.stream()), core_context,
                                                                std::move(options));
        end_io(&rec);  // the handle is the TLS stream's now
        return started;
      },
      Kind::tls_stream, out, callback, user);
}

void copy_text(char* out, std::size_t size, const std::string& text) {
  const std::size_t n = text.size() < size - 1 ? text.size() : size - 1;
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

}  // namespace

}  // namespace weft::capi

using weft::capi::api;
using weft::capi::require;

extern "C" {

WEFT_API weft_status weft_tls_context_options_init(weft_tls_context_options* options, size_t struct_size) {
  return api(__func__, [&] {
    const weft_tls_context_options defaults = WEFT_TLS_CONTEXT_OPTIONS_INIT;
    weft::capi::init_options(options, struct_size, &defaults, sizeof defaults, sizeof defaults, "options");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tls_context_create(weft_tls_context_t** out, weft_loop_t* loop, weft_tls_role role,
                                             const weft_tls_context_options* options) {
  return api(__func__, [&] {
    weft::capi::Scope& scope = weft::capi::loop_scope(loop, "weft_tls_context_create");
    require(out, "out");
    const int raw_role = weft::capi::raw_enum(role);
    if (raw_role != WEFT_TLS_CLIENT && raw_role != WEFT_TLS_SERVER) {
      weft::capi::fail(weft::Errc::invalid_argument, "role " + std::to_string(raw_role) + " is not a weft_tls_role");
    }
    const bool server = raw_role == WEFT_TLS_SERVER;
    weft_tls_context_options o = WEFT_TLS_CONTEXT_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, sizeof(o), sizeof(o), "options");
      o = *options;
    } else if (server) {
      weft::capi::fail(weft::Errc::invalid_argument, "a server context needs options (its certificate and key)");
    }
    const weft::TlsContextOptions core_options = weft::capi::core_options(o, server);
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    weft::TlsContext context =
        server ? weft::TlsContext::server(core_options) : weft::TlsContext::client(core_options);
    weft::capi::Runtime& runtime = scope.runtime;
    auto* rec = runtime.allocator.make<weft::capi::TlsContextRec>();
    rec->runtime = &runtime;
    rec->scope = &scope;
    rec->core = std::move(context);
    *out = weft::capi::as_handle<weft_tls_context_t>(weft::capi::register_io(rec, weft::capi::Kind::tls_context));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tls_context_destroy(weft_tls_context_t* context) {
  if (context == nullptr) return WEFT_OK;
  return api(__func__, [&] {
    weft::capi::end_io(&weft::capi::context_of(context, "weft_tls_context_destroy"));
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tls_connect(weft_future_t** out, weft_stream_t* stream, weft_tls_context_t* context,
                                      const char* server_name, weft_stream_callback callback, void* user) {
  return api(__func__, [&] {
    weft::capi::start_handshake(out, stream, context, false, server_name, callback, user, "weft_tls_connect");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tls_accept(weft_future_t** out, weft_stream_t* stream, weft_tls_context_t* context,
                                     weft_stream_callback callback, void* user) {
  return api(__func__, [&] {
    weft::capi::start_handshake(out, stream, context, true, nullptr, callback, user, "weft_tls_accept");
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_tls_get_info(weft_tls_info* out, weft_stream_t* stream) {
  return api(__func__, [&] {
    weft::capi::StreamRec& rec = static_cast<weft::capi::StreamRec&>(
        weft::capi::io_of(stream, weft::capi::Kind::tls_stream, "stream", "weft_tls_get_info"));
    require(out, "out");
    weft::capi::check_out_struct_size(out->struct_size, sizeof(weft_tls_info), "out");
    const auto& tls = static_cast<const weft::TlsStream&>(rec.stream());
    out->peer_verified = tls.peer_verified() ? 1 : 0;
    weft::capi::copy_text(out->alpn, sizeof(out->alpn), tls.alpn_protocol());
    weft::capi::copy_text(out->server_name, sizeof(out->server_name), tls.server_name());
    weft::capi::copy_text(out->version, sizeof(out->version), tls.protocol_version());
    weft::capi::copy_text(out->cipher, sizeof(out->cipher), tls.cipher());
    return WEFT_OK;
  });
}

}  // extern "C"
