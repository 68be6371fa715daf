/* http_routes.c: see http_routes.h. */
#include "examples/http/http_routes.h"

#include <string.h>

const char* const http_routes_chunks[] = {"weft ", "sends ", "this ", "in ", "chunks\n"};
const unsigned http_routes_chunk_count = sizeof(http_routes_chunks) / sizeof(http_routes_chunks[0]);

/* The target's path (before any '?') is exactly `path`. */
static int path_is(const http_request* request, const char* path) {
  size_t len = 0;
  while (len < request->target_len && request->target[len] != '?') ++len;
  return len == strlen(path) && memcmp(request->target, path, len) == 0;
}

static http_response_head head_of(const http_reply* reply, int status, const char* content_type) {
  http_response_head head = {status, reply->date, reply->keep_alive, reply->http10_client,
                             content_type, NULL};
  return head;
}

static void not_allowed(const http_reply* reply, const char* allow_line) {
  static const char kBody[] = "Method Not Allowed\n";
  http_response_head head = head_of(reply, 405, "text/plain");
  head.extra_headers = allow_line;
  http_write_response(reply->out, &head, kBody, sizeof(kBody) - 1, reply->head_only);
}

static void hello(const http_reply* reply) {
  http_response_head head = head_of(reply, 200, "text/plain");
  http_write_response(reply->out, &head, "hello", 5, reply->head_only);
}

static void echo(const http_request* request, const http_reply* reply) {
  /* The body goes back as it came; its type too, if it is a plain one. */
  char type[128] = "application/octet-stream";
  const http_header* given = http_request_header(request, "content-type");
  if (given != NULL && given->value_len > 0 && given->value_len < sizeof(type)) {
    memcpy(type, given->value, given->value_len);
    type[given->value_len] = '\0';
    if (strlen(type) != given->value_len) strcpy(type, "application/octet-stream");
  }
  http_response_head head = head_of(reply, 200, type);
  http_write_response(reply->out, &head, request->body, request->body_len, 0);
}

static void chunked(const http_reply* reply) {
  http_response_head head = head_of(reply, 200, "text/plain");
  if (reply->http10_client) {
    /* No chunked coding for HTTP/1.0: the same text with a length. */
    http_buffer body = HTTP_BUFFER_INIT;
    for (unsigned i = 0; i < http_routes_chunk_count; ++i) {
      http_buffer_append_str(&body, http_routes_chunks[i]);
    }
    if (body.failed) reply->out->failed = 1;
    http_write_response(reply->out, &head, body.data, body.len, reply->head_only);
    http_buffer_free(&body);
    return;
  }
  http_write_chunked_head(reply->out, &head);
  if (reply->head_only) return;
  for (unsigned i = 0; i < http_routes_chunk_count; ++i) {
    http_write_chunk(reply->out, http_routes_chunks[i], strlen(http_routes_chunks[i]));
  }
  http_write_last_chunk(reply->out);
}

void http_routes_handle(void* user, const http_request* request, const http_reply* reply) {
  (void)user;
  int get = request->method == HTTP_GET || request->method == HTTP_HEAD;
  if (path_is(request, "/")) {
    if (get) {
      hello(reply);
    } else {
      not_allowed(reply, "Allow: GET, HEAD\r\n");
    }
  } else if (path_is(request, "/echo")) {
    if (request->method == HTTP_POST) {
      echo(request, reply);
    } else {
      not_allowed(reply, "Allow: POST\r\n");
    }
  } else if (path_is(request, "/chunked")) {
    if (get) {
      chunked(reply);
    } else {
      not_allowed(reply, "Allow: GET, HEAD\r\n");
    }
  } else {
    static const char kBody[] = "Not Found\n";
    http_response_head head = head_of(reply, 404, "text/plain");
    http_write_response(reply->out, &head, kBody, sizeof(kBody) - 1, reply->head_only);
  }
}
