/* http_buffer.c: see http_buffer.h. */
#include "examples/http/http_buffer.h"

#include <stdlib.h>
#include <string.h>

static int reserve(http_buffer* buffer, size_t extra) {
  if (buffer->failed) return 0;
  if (extra <= buffer->cap - buffer->len) return 1;
  if (extra > ((size_t)-1) / 2 - buffer->len) {
    buffer->failed = 1;
    return 0;
  }
  size_t cap = buffer->cap < 256 ? 256 : buffer->cap;
  while (cap - buffer->len < extra) cap *= 2;
  char* grown = realloc(buffer->data, cap);
  if (grown == NULL) {
    buffer->failed = 1;
    return 0;
  }
  buffer->data = grown;
  buffer->cap = cap;
  return 1;
}

void http_buffer_append(http_buffer* buffer, const void* bytes, size_t len) {
  if (len == 0 || !reserve(buffer, len)) return;
  memcpy(buffer->data + buffer->len, bytes, len);
  buffer->len += len;
}

void http_buffer_append_str(http_buffer* buffer, const char* text) {
  http_buffer_append(buffer, text, strlen(text));
}

void http_buffer_append_decimal(http_buffer* buffer, unsigned long long value) {
  char digits[24];
  size_t at = sizeof(digits);
  do {
    digits[--at] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  http_buffer_append(buffer, digits + at, sizeof(digits) - at);
}

void http_buffer_append_hex(http_buffer* buffer, unsigned long long value) {
  static const char kHex[] = "0123456789abcdef";
  char digits[16];
  size_t at = sizeof(digits);
  do {
    digits[--at] = kHex[value & 15];
    value >>= 4;
  } while (value != 0);
  http_buffer_append(buffer, digits + at, sizeof(digits) - at);
}

void http_buffer_reset(http_buffer* buffer, size_t keep_capacity) {
  buffer->len = 0;
  buffer->failed = 0;
  if (buffer->cap > keep_capacity) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->cap = 0;
  }
}

void http_buffer_free(http_buffer* buffer) {
  free(buffer->data);
  buffer->data = NULL;
  buffer->len = 0;
  buffer->cap = 0;
  buffer->failed = 0;
}
