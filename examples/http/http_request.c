/* http_request.c: see http_request.h. The callbacks below are
 * http_parser's; each finds its reader through parser->data. */
#include "examples/http/http_request.h"

#include <stdlib.h>
#include <string.h>

/* Buffers larger than this are given back between requests. */
#define KEEP_CAPACITY (64 * 1024)

static http_reader* reader_of(http_parser* parser) { return (http_reader*)parser->data; }

static int fail(http_reader* reader, int status, const char* reason) {
  reader->error_status = status;
  reader->error_reason = reason;
  return -1;
}

/* Counts `len` more bytes of the head; fails with 431 past the limit. */
static int count_head(http_reader* reader, size_t len) {
  reader->head_bytes += len;
  if (reader->head_bytes > reader->limits.max_head_bytes) {
    return fail(reader, 431, "request line and headers too large");
  }
  return 0;
}

static int on_message_begin(http_parser* parser) {
  reader_of(parser)->started = 1;
  return 0;
}

static int on_url(http_parser* parser, const char* at, size_t len) {
  http_reader* reader = reader_of(parser);
  if (count_head(reader, len) != 0) return -1;
  http_buffer_append(&reader->head, at, len);
  reader->target_len += len;
  return 0;
}

static int on_header_field(http_parser* parser, const char* at, size_t len) {
  http_reader* reader = reader_of(parser);
  /* Trailers (after a chunked body) count against the limit but are not
   * kept: the request's headers point into `head`, which must not move. */
  if (reader->headers_done) return count_head(reader, len);
  if (reader->in_value || reader->header_count == 0) {
    /* A new header line. */
    if (reader->header_count == reader->limits.max_headers) {
      return fail(reader, 431, "too many header lines");
    }
    if (count_head(reader, 4) != 0) return -1; /* ": " and CRLF */
    http_header_span* span = &reader->spans[reader->header_count++];
    span->name_at = reader->head.len;
    span->name_len = 0;
    span->value_at = reader->head.len;
    span->value_len = 0;
    reader->in_value = 0;
  }
  if (count_head(reader, len) != 0) return -1;
  http_buffer_append(&reader->head, at, len);
  http_header_span* span = &reader->spans[reader->header_count - 1];
  span->name_len += len;
  span->value_at = reader->head.len;
  return 0;
}

static int on_header_value(http_parser* parser, const char* at, size_t len) {
  http_reader* reader = reader_of(parser);
  if (reader->headers_done) return count_head(reader, len);
  if (reader->header_count == 0) return fail(reader, 400, "header value without a name");
  if (count_head(reader, len) != 0) return -1;
  http_buffer_append(&reader->head, at, len);
  reader->spans[reader->header_count - 1].value_len += len;
  reader->in_value = 1;
  return 0;
}

static int equals_ignoring_case(const char* a, size_t a_len, const char* b) {
  size_t b_len = strlen(b);
  if (a_len != b_len) return 0;
  for (size_t i = 0; i < a_len; ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return 0;
  }
  return 1;
}

static int on_headers_complete(http_parser* parser) {
  http_reader* reader = reader_of(parser);
  if (reader->head.failed) return fail(reader, 500, "out of memory");
  reader->headers_done = 1;
  /* The head buffer no longer grows: pointers into it stay valid. */
  for (size_t i = 0; i < reader->header_count; ++i) {
    const http_header_span* span = &reader->spans[i];
    http_header* header = &reader->headers[i];
    header->name = reader->head.data + span->name_at;
    header->name_len = span->name_len;
    header->value = reader->head.data + span->value_at;
    header->value_len = span->value_len;
  }
  http_request* request = &reader->request;
  request->method = (enum http_method)parser->method;
  request->version_major = parser->http_major;
  request->version_minor = parser->http_minor;
  request->target = reader->head.data != NULL ? reader->head.data : "";
  request->target_len = reader->target_len;
  request->headers = reader->headers;
  request->header_count = reader->header_count;
  request->keep_alive = http_should_keep_alive(parser);

  int chunked = (parser->flags & F_CHUNKED) != 0;
  int has_length = (parser->flags & F_CONTENTLENGTH) != 0;
  if (has_length && parser->content_length > reader->limits.max_body_bytes) {
    return fail(reader, 413, "body too large");
  }
  const http_header* expect = http_request_header(request, "expect");
  if (expect != NULL && parser->http_major == 1 && parser->http_minor >= 1 &&
      equals_ignoring_case(expect->value, expect->value_len, "100-continue") &&
      (chunked || (has_length && parser->content_length > 0))) {
    reader->expect_continue = 1;
  }
  return 0;
}

static int on_body(http_parser* parser, const char* at, size_t len) {
  http_reader* reader = reader_of(parser);
  reader->expect_continue = 0; /* the client did not wait */
  if (len > reader->limits.max_body_bytes - reader->body.len) {
    return fail(reader, 413, "body too large");
  }
  http_buffer_append(&reader->body, at, len);
  if (reader->body.failed) return fail(reader, 500, "out of memory");
  return 0;
}

static int on_message_complete(http_parser* parser) {
  http_reader* reader = reader_of(parser);
  reader->complete = 1;
  reader->expect_continue = 0;
  reader->request.body = reader->body.data != NULL ? reader->body.data : "";
  reader->request.body_len = reader->body.len;
  /* Stop here: the bytes after this request wait for http_reader_next. */
  http_parser_pause(parser, 1);
  return 0;
}

static const http_parser_settings kSettings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

int http_reader_init(http_reader* reader, const http_limits* limits) {
  static const http_limits kDefaults = HTTP_LIMITS_DEFAULT;
  memset(reader, 0, sizeof(*reader));
  reader->limits = limits != NULL ? *limits : kDefaults;
  size_t slots = reader->limits.max_headers > 0 ? reader->limits.max_headers : 1;
  reader->spans = calloc(slots, sizeof(*reader->spans));
  reader->headers = calloc(slots, sizeof(*reader->headers));
  if (reader->spans == NULL || reader->headers == NULL) {
    free(reader->spans);
    free(reader->headers);
    return -1;
  }
  http_parser_init(&reader->parser, HTTP_REQUEST);
  reader->parser.data = reader;
  return 0;
}

void http_reader_free(http_reader* reader) {
  http_buffer_free(&reader->head);
  http_buffer_free(&reader->body);
  free(reader->spans);
  free(reader->headers);
  reader->spans = NULL;
  reader->headers = NULL;
}

http_read_result http_reader_feed(http_reader* reader, const char* bytes, size_t len,
                                  size_t* used) {
  *used = 0;
  if (reader->error_status != 0) return HTTP_READ_ERROR;
  if (reader->complete) return HTTP_READ_REQUEST;
  if (len == 0) return HTTP_READ_MORE;
  size_t parsed = http_parser_execute(&reader->parser, &kSettings, bytes, len);
  enum http_errno error = HTTP_PARSER_ERRNO(&reader->parser);
  if (reader->complete) {
    *used = parsed;
    reader->request.upgrade = reader->parser.upgrade;
    return HTTP_READ_REQUEST;
  }
  if (error == HPE_OK && reader->head.failed) fail(reader, 500, "out of memory");
  if (error != HPE_OK || reader->error_status != 0 || parsed != len) {
    if (reader->error_status == 0) {
      reader->error_status = error == HPE_HEADER_OVERFLOW ? 431 : 400;
      reader->error_reason = http_errno_description(error);
    }
    *used = parsed;
    return HTTP_READ_ERROR;
  }
  *used = parsed;
  return HTTP_READ_MORE;
}

const http_request* http_reader_request(const http_reader* reader) {
  return reader->complete ? &reader->request : NULL;
}

void http_reader_next(http_reader* reader) {
  http_buffer_reset(&reader->head, KEEP_CAPACITY);
  http_buffer_reset(&reader->body, KEEP_CAPACITY);
  reader->header_count = 0;
  reader->head_bytes = 0;
  reader->target_len = 0;
  reader->in_value = 0;
  reader->started = 0;
  reader->headers_done = 0;
  reader->complete = 0;
  reader->expect_continue = 0;
  memset(&reader->request, 0, sizeof(reader->request));
  http_parser_pause(&reader->parser, 0);
}

int http_reader_in_request(const http_reader* reader) { return reader->started; }

int http_reader_take_expect_continue(http_reader* reader) {
  int expects = reader->expect_continue && !reader->complete && reader->error_status == 0;
  reader->expect_continue = 0;
  return expects;
}

int http_reader_error_status(const http_reader* reader) { return reader->error_status; }

const char* http_reader_error_reason(const http_reader* reader) {
  return reader->error_reason != NULL ? reader->error_reason : "";
}

const http_header* http_request_header(const http_request* request, const char* name) {
  for (size_t i = 0; i < request->header_count; ++i) {
    const http_header* header = &request->headers[i];
    if (equals_ignoring_case(header->name, header->name_len, name)) return header;
  }
  return NULL;
}
