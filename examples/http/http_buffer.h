/* http_buffer: a growable byte buffer for the HTTP examples' responses and
 * request bodies.
 *
 * Out of memory is sticky: the first append that cannot grow the buffer sets
 * `failed`, and every later append does nothing, so a caller checks once,
 * after building a whole response (a connection whose buffer failed is
 * closed without writing it).
 *
 * Owned by whoever embeds it; free with http_buffer_free. Not thread-safe:
 * one connection's buffer is used on its loop's thread. */
#ifndef WEFT_EXAMPLES_HTTP_BUFFER_H
#define WEFT_EXAMPLES_HTTP_BUFFER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct http_buffer {
  char* data;
  size_t len;
  size_t cap;
  int failed; /* an append ran out of memory; the contents are incomplete */
} http_buffer;

#define HTTP_BUFFER_INIT {NULL, 0, 0, 0}

void http_buffer_append(http_buffer* buffer, const void* bytes, size_t len);
void http_buffer_append_str(http_buffer* buffer, const char* text);
void http_buffer_append_decimal(http_buffer* buffer, unsigned long long value);
void http_buffer_append_hex(http_buffer* buffer, unsigned long long value);

/* Empties the buffer; gives its memory back if it grew past `keep_capacity`
 * (so one large message does not stay allocated on an idle connection). */
void http_buffer_reset(http_buffer* buffer, size_t keep_capacity);
void http_buffer_free(http_buffer* buffer);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXAMPLES_HTTP_BUFFER_H */
