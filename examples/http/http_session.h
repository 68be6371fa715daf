/* http_session: one HTTP/1.1 connection's protocol, without the I/O — bytes
 * from the client go in, the responses due come out in a buffer, and the
 * session says when the connection must close. Both example servers (the
 * C++ one on coroutine tasks, the C one on the C API's callbacks) run their
 * connections through it, and the fuzz target feeds it directly.
 *
 *   http_session_feed(&session, bytes, len, &out);   // answers every complete request
 *   write out; if it returned HTTP_SESSION_CLOSE, close after the write
 *
 * - Keep-alive and pipelining: every complete request in the bytes is
 *   answered, in order, into `out`; a request split over several feeds is
 *   answered once its last byte arrives.
 * - "Expect: 100-continue": a 100 Continue goes out once the headers are
 *   read (and the body fits the limit).
 * - Bad input: the error response (400, 413, 431; 500 when out of memory)
 *   and HTTP_SESSION_CLOSE. So do "Connection: close", an HTTP/1.0 request
 *   without keep-alive, an Upgrade or CONNECT request (after its answer)
 *   and any request once the session is draining.
 * - Time-outs are the server's (it owns the clock): http_session_time_out
 *   writes the 408.
 * - Once closing, the session ignores further bytes.
 *
 * Output size: one feed of N bytes produces at most the responses to the
 * requests in them; each response is bounded by the handler (the example's
 * routes: the echoed body, at most max_body_bytes, or a few hundred bytes).
 *
 * The session owns its reader; `out` is the caller's. Not thread-safe: a
 * connection's session lives on its loop's thread. */
#ifndef WEFT_EXAMPLES_HTTP_SESSION_H
#define WEFT_EXAMPLES_HTTP_SESSION_H

#include <stddef.h>

#include "examples/http/http_buffer.h"
#include "examples/http/http_request.h"
#include "examples/http/http_response.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a handler answers: append one complete response to `out`. */
typedef struct http_reply {
  http_buffer* out;
  const char* date;  /* for the Date header */
  int keep_alive;    /* the connection stays open after this response */
  int http10_client; /* an HTTP/1.0 client: no chunked coding, say keep-alive */
  int head_only;     /* a HEAD request: headers only */
} http_reply;

typedef void (*http_handler)(void* user, const http_request* request, const http_reply* reply);

typedef enum http_session_status {
  HTTP_SESSION_OPEN,  /* write `out` (if anything is in it), then read on */
  HTTP_SESSION_CLOSE, /* write `out` (unless out->failed), then close */
} http_session_status;

typedef struct http_session {
  http_reader reader;
  http_handler handler;
  void* handler_user;
  http_date date;
  int closing;  /* the last response has been produced */
  int draining; /* the server shuts down: the next response is the last */
} http_session;

/* 0, or -1 if out of memory. `limits` NULL: HTTP_LIMITS_DEFAULT. */
int http_session_init(http_session* session, const http_limits* limits, http_handler handler,
                      void* handler_user);
void http_session_free(http_session* session);

/* Handles `len` bytes from the client, appending what is due to `out`
 * (which may already hold bytes: they stay first). */
http_session_status http_session_feed(http_session* session, const char* bytes, size_t len,
                                      http_buffer* out);

/* The client took too long: appends a 408 and the session is closing. */
void http_session_time_out(http_session* session, http_buffer* out);

/* The server is shutting down: the request in progress (if any) is the
 * connection's last; its response says "Connection: close". */
void http_session_drain(http_session* session);

/* No part of a request has arrived since the last response: closing now
 * loses nothing. */
int http_session_idle(const http_session* session);

int http_session_closing(const http_session* session);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXAMPLES_HTTP_SESSION_H */
