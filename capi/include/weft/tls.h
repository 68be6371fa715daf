/* weft/tls.h: TLS over a stream (OpenSSL), client and server.
 *
 *   weft_tls_context_options o = WEFT_TLS_CONTEXT_OPTIONS_INIT;
 *   o.ca_file = "ca.pem";                        (NULL: the system's store)
 *   weft_tls_context_t* ctx;
 *   weft_tls_context_create(&ctx, loop, WEFT_TLS_CLIENT, &o);
 *   ...once weft_tcp_connect gave `tcp`:
 *   weft_tls_connect(NULL, tcp, ctx, "example.com", on_tls, user);
 *   ...on_tls(user, WEFT_OK, NULL, tls): read and write `tls` with
 *   weft/stream.h's functions, close it with weft_stream_close.
 *
 * A context holds the settings many connections share: the role, the CAs
 * to trust, this side's certificate and key, ALPN protocols, the handshake
 * timeout. Connections keep what they need of it: destroying a context
 * does not disturb the streams made with it.
 *
 * weft_tls_connect / weft_tls_accept take a stream over (a TCP connection,
 * or any weft_stream_t) and run the handshake. If the call returns WEFT_OK,
 * the stream handle given is ended at once (stale from then on: the TLS
 * stream owns the connection) and the outcome follows weft's one
 * asynchronous model (weft/weft.h), like weft_tcp_connect: an optional
 * future `out` resolving with a POINTER value holding the new
 * weft_stream_t*, a callback (weft_stream_callback, may be NULL), a status
 * and a message, each exactly once, on the loop thread. If the call
 * returns an error, nothing happened: the stream is still the caller's and
 * the callback is never called.
 *
 * The new stream is a weft_stream_t: every weft_stream_* function works on
 * it (reads give the decrypted bytes; write's backpressure, drain and
 * write_buffered count the encrypted bytes queued for the connection).
 * weft_stream_shutdown sends close_notify, then ends the connection's
 * writing side; the peer's close_notify is end of stream (a read of 0
 * bytes), while the connection ending without one fails reads with
 * WEFT_ERR_TLS_PROTOCOL_ERROR. weft_stream_close sends close_notify when
 * it can without waiting, then closes the connection.
 *
 * Handshake failures: WEFT_ERR_TLS_CERTIFICATE_UNTRUSTED (the chain does
 * not verify), WEFT_ERR_TLS_HOST_MISMATCH (it verifies but is not for
 * server_name), WEFT_ERR_TLS_HANDSHAKE_FAILED (anything else: no protocol
 * in common, a plain-text peer, the peer's alert or its closing the
 * connection), WEFT_ERR_TIMED_OUT (the context's handshake timeout). The
 * message carries OpenSSL's reason. The connection is closed then.
 * Cancelling the future abandons the handshake and closes the connection.
 *
 * Handles. A context belongs to the scope of the loop handle it was made
 * through and is ended by weft_tls_context_destroy, or by the scope's
 * cancellation or destruction and the runtime's destruction. A TLS stream
 * belongs to the scope of the loop handle of the stream it took over.
 *
 * Thread: loop thread, for every function here.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++. Since 1.3.
 */
#ifndef WEFT_TLS_H
#define WEFT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"
#include "weft/stream.h"

WEFT_EXTERN_C_BEGIN

/* TLS settings for many connections. */
typedef struct weft_tls_context weft_tls_context_t;

typedef enum weft_tls_role {
  WEFT_TLS_CLIENT = 0,
  WEFT_TLS_SERVER = 1,
  WEFT_TLS_ROLE_FORCE32 = 0x7FFFFFFF
} weft_tls_role;

typedef enum weft_tls_verify {
  /* A client verifies the server's certificate (chain, and host name when
   * one is given); a server asks for no client certificate. */
  WEFT_TLS_VERIFY_DEFAULT = 0,
  /* As the default for a client; a server requires a client certificate
   * that verifies against its trusted CAs. */
  WEFT_TLS_VERIFY_PEER = 1,
  /* Nothing is verified (testing only: anyone in the middle can listen). */
  WEFT_TLS_VERIFY_NONE = 2,
  WEFT_TLS_VERIFY_FORCE32 = 0x7FFFFFFF
} weft_tls_verify;

/* Options of weft_tls_context_create. Set struct_size
 * (WEFT_TLS_CONTEXT_OPTIONS_INIT or weft_tls_context_options_init); zero
 * fields and NULL strings mean defaults. Strings are copied (files read)
 * during the call. */
typedef struct weft_tls_context_options {
  size_t struct_size;
  weft_tls_verify verify;
  const char* ca_file;     /* trusted CAs, PEM; with ca_pem NULL too, a client trusts the system's store */
  const char* ca_pem;      /* trusted CAs as PEM text */
  const char* cert_file;   /* this side's certificate chain, PEM (required for a server) */
  const char* key_file;    /* its private key, PEM */
  const char* cert_pem;    /* the same as PEM text */
  const char* key_pem;
  const char* const* alpn; /* ALPN protocols, most preferred first (1..255 bytes each) */
  size_t alpn_count;
  uint64_t handshake_timeout_ns; /* 0: 60 s; UINT64_MAX: no limit */
} weft_tls_context_options;

#define WEFT_TLS_CONTEXT_OPTIONS_INIT \
  { sizeof(weft_tls_context_options), WEFT_TLS_VERIFY_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 }

/* Fills `options` with WEFT_TLS_CONTEXT_OPTIONS_INIT's values for a struct
 * of `struct_size` bytes. Errors: WEFT_ERR_INVALID_ARGUMENT (options NULL,
 * struct_size too small). Thread: any thread. Since 1.3. */
WEFT_API weft_status weft_tls_context_options_init(weft_tls_context_options* options, size_t struct_size);

/* Makes a client or server context. `options` may be NULL for a client
 * (the system's trust store, verification on). The caller owns *out; end it
 * with weft_tls_context_destroy.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL out, an invalid role or verify
 * value, bad options, a file that cannot be read, PEM that does not parse,
 * a key that does not match its certificate, a server without a
 * certificate; the message names the cause with OpenSSL's reason),
 * WEFT_ERR_CLOSED (the scope was cancelled). Thread: loop thread. Since 1.3. */
WEFT_API weft_status weft_tls_context_create(weft_tls_context_t** out, weft_loop_t* loop, weft_tls_role role,
                                             const weft_tls_context_options* options);

/* Ends a context (streams made with it are not affected). NULL is fine.
 * Thread: loop thread. Since 1.3. */
WEFT_API weft_status weft_tls_context_destroy(weft_tls_context_t* context);

/* Client handshake over `stream` with a client context (see the top of
 * this file). `server_name` (may be NULL) is sent as SNI unless it is an IP
 * address, and is what the certificate must be for when the context
 * verifies.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out and callback both NULL, a server
 * context, a server_name OpenSSL refuses), WEFT_ERR_INVALID_HANDLE /
 * WEFT_ERR_STALE_HANDLE (stream, context), WEFT_ERR_INVALID_STATE
 * (operations are pending on the stream), WEFT_ERR_CLOSED.
 * Thread: loop thread. Since 1.3. */
WEFT_API weft_status weft_tls_connect(weft_future_t** out, weft_stream_t* stream, weft_tls_context_t* context,
                                      const char* server_name, weft_stream_callback callback, void* user);

/* Server handshake over `stream` with a server context. Errors as
 * weft_tls_connect's (a client context is WEFT_ERR_INVALID_ARGUMENT).
 * Thread: loop thread. Since 1.3. */
WEFT_API weft_status weft_tls_accept(weft_future_t** out, weft_stream_t* stream, weft_tls_context_t* context,
                                     weft_stream_callback callback, void* user);

/* What a TLS stream's handshake agreed on. Set struct_size
 * (WEFT_TLS_INFO_INIT); weft fills the fields (strings NUL-terminated, ""
 * when there is none). */
typedef struct weft_tls_info {
  size_t struct_size;
  int peer_verified;      /* the peer presented a certificate and it verified */
  char alpn[256];         /* the ALPN protocol agreed on */
  char server_name[256];  /* client: the SNI it sent; server: the one it received */
  char version[32];       /* "TLSv1.3", "TLSv1.2" */
  char cipher[64];        /* OpenSSL's name of the cipher suite */
} weft_tls_info;

#define WEFT_TLS_INFO_INIT { sizeof(weft_tls_info), 0, "", "", "", "" }

/* Fills *out for a TLS stream.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL, struct_size too small),
 * WEFT_ERR_INVALID_HANDLE (not a TLS stream) / WEFT_ERR_STALE_HANDLE.
 * Thread: loop thread. Since 1.3. */
WEFT_API weft_status weft_tls_get_info(weft_tls_info* out, weft_stream_t* stream);

WEFT_EXTERN_C_END

#endif /* WEFT_TLS_H */
