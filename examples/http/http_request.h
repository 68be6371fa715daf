/* http_request: HTTP/1.1 requests read from a byte stream with Node's
 * http_parser (Debian's libhttp-parser), one complete request at a time,
 * within size limits.
 *
 *   http_reader reader;
 *   http_reader_init(&reader, &limits);
 *   size_t used;
 *   switch (http_reader_feed(&reader, bytes, len, &used)) {
 *     case HTTP_READ_REQUEST: handle(http_reader_request(&reader));
 *                             http_reader_next(&reader);   // then feed bytes + used on
 *     case HTTP_READ_MORE:    ...read more...
 *     case HTTP_READ_ERROR:   answer http_reader_error_status(&reader), close
 *   }
 *
 * Pipelining: feeding stops after each complete request (`used` says how far
 * it got), so requests that arrive in one read are handed out one by one, in
 * order. Bodies of both framings (Content-Length and chunked transfer
 * coding) are collected whole.
 *
 * Limits (http_limits): the request line and headers (the bytes of the
 * target, names and values, plus 4 per header line) over max_head_bytes, or
 * more than max_headers header lines: 431. A body over max_body_bytes: 413,
 * as soon as it is known (a Content-Length over the limit fails at the end
 * of the headers, before any of the body is read). Trailers after a
 * chunked body count against max_head_bytes too, and are dropped. Anything http_parser
 * rejects: 400; a transfer coding it cannot decode: 400 too.
 *
 * The reader owns its buffers; a request handed out borrows them until
 * http_reader_next or http_reader_free. Not thread-safe (one connection's
 * reader lives on its loop's thread). */
#ifndef WEFT_EXAMPLES_HTTP_REQUEST_H
#define WEFT_EXAMPLES_HTTP_REQUEST_H

#include <http_parser.h>
#include <stddef.h>

#include "examples/http/http_buffer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct http_limits {
  size_t max_head_bytes; /* request line and headers: 431 above */
  size_t max_headers;    /* header lines: 431 above */
  size_t max_body_bytes; /* body: 413 above */
} http_limits;

#define HTTP_LIMITS_DEFAULT {8192, 64, 1024 * 1024}

typedef struct http_header {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
} http_header;

typedef struct http_request {
  enum http_method method;
  unsigned short version_major;
  unsigned short version_minor;
  const char* target; /* as sent: "/path?query" (not NUL-terminated) */
  size_t target_len;
  const http_header* headers;
  size_t header_count;
  const char* body; /* the decoded body (chunks joined) */
  size_t body_len;
  int keep_alive; /* the client allows another request on this connection */
  int upgrade;    /* Upgrade or CONNECT: what follows is not HTTP any more */
} http_request;

typedef enum http_read_result {
  HTTP_READ_MORE,    /* every byte was used; no complete request yet */
  HTTP_READ_REQUEST, /* a complete request (the bytes after it were not used) */
  HTTP_READ_ERROR,   /* bad or too large: see http_reader_error_status */
} http_read_result;

/* Where the header offsets are kept while the head is being read. */
typedef struct http_header_span {
  size_t name_at, name_len, value_at, value_len;
} http_header_span;

typedef struct http_reader {
  http_parser parser;
  http_limits limits;
  http_buffer head;    /* target, then names and values, as they arrive */
  http_buffer body;
  http_header_span* spans;
  http_header* headers;
  size_t header_count;
  size_t head_bytes;   /* counted against max_head_bytes */
  size_t target_len;
  int in_value;        /* the last header callback was a value */
  int started;         /* a byte of the current request arrived */
  int headers_done;
  int complete;
  int expect_continue; /* "Expect: 100-continue" with a body to come */
  int error_status;    /* 0, or 400 / 413 / 431 */
  const char* error_reason;
  http_request request;
} http_reader;

/* 0, or -1 if out of memory (nothing to free then). `limits` NULL: the
 * defaults. */
int http_reader_init(http_reader* reader, const http_limits* limits);
void http_reader_free(http_reader* reader);

/* Parses up to `len` bytes; *used is how many were taken. After an ERROR
 * the reader is finished: later feeds return ERROR again. */
http_read_result http_reader_feed(http_reader* reader, const char* bytes, size_t len, size_t* used);

/* The complete request after HTTP_READ_REQUEST. */
const http_request* http_reader_request(const http_reader* reader);

/* Ready for the next request on the connection (the last one's memory is
 * reused or, if it was large, given back). */
void http_reader_next(http_reader* reader);

/* Some of a request has arrived (the connection is not idle between
 * requests). */
int http_reader_in_request(const http_reader* reader);

/* The headers are complete, the client sent "Expect: 100-continue" and the
 * body has not arrived: it waits for a 100 Continue. Reading it clears it. */
int http_reader_take_expect_continue(http_reader* reader);

/* After HTTP_READ_ERROR: 400, 413 or 431, and a short reason. */
int http_reader_error_status(const http_reader* reader);
const char* http_reader_error_reason(const http_reader* reader);

/* The first value of header `name` (ASCII case-insensitive), or NULL. */
const http_header* http_request_header(const http_request* request, const char* name);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXAMPLES_HTTP_REQUEST_H */
