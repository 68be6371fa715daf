/* http_response: writing HTTP/1.1 responses into an http_buffer — a status
 * line, the headers every response carries (Date, Server, Connection), a
 * body framed by Content-Length or by chunked transfer coding, and the
 * canned error responses (400, 408, 413, 431, ...).
 *
 * Nothing here does I/O: the caller writes the buffer to its connection.
 * The date cache is the caller's (one per loop thread); the functions keep
 * no state of their own. */
#ifndef WEFT_EXAMPLES_HTTP_RESPONSE_H
#define WEFT_EXAMPLES_HTTP_RESPONSE_H

#include <stddef.h>
#include <time.h>

#include "examples/http/http_buffer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The IMF-fixdate of the current second ("Sun, 06 Nov 1994 08:49:37 GMT"),
 * formatted again only when the second changes. */
typedef struct http_date {
  time_t second;
  char text[32];
} http_date;

#define HTTP_DATE_INIT {(time_t)-1, {0}}

const char* http_date_now(http_date* date);

/* The reason phrase of a status code ("Not Found"; "Unknown" for codes the
 * examples never send). */
const char* http_status_reason(int status);

/* What every response of the examples starts with. */
typedef struct http_response_head {
  int status;
  const char* date;         /* http_date_now(); NULL: no Date header */
  int keep_alive;           /* 0: "Connection: close" */
  int http10_client;        /* with keep_alive: say "Connection: keep-alive" (HTTP/1.0) */
  const char* content_type; /* NULL: none */
  const char* extra_headers; /* complete lines, each ending in CRLF ("Allow: POST\r\n"); NULL: none */
} http_response_head;

/* The status line and the common headers, without the blank line. */
void http_write_head(http_buffer* out, const http_response_head* head);

/* A whole response with a Content-Length body. `head_only` (a HEAD request)
 * leaves the body out but keeps its length. */
void http_write_response(http_buffer* out, const http_response_head* head, const void* body,
                         size_t body_len, int head_only);

/* A chunked response: the head with "Transfer-Encoding: chunked", then one
 * http_write_chunk per piece (empty pieces are skipped: an empty chunk
 * would end the body), then http_write_last_chunk. */
void http_write_chunked_head(http_buffer* out, const http_response_head* head);
void http_write_chunk(http_buffer* out, const void* bytes, size_t len);
void http_write_last_chunk(http_buffer* out);

/* An error response that closes the connection: the status, its reason as
 * a text/plain body, and "Connection: close". */
void http_write_error(http_buffer* out, int status, const char* date);

/* "HTTP/1.1 100 Continue" (the answer to "Expect: 100-continue"). */
void http_write_continue(http_buffer* out);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXAMPLES_HTTP_RESPONSE_H */
