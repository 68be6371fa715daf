/* http_response.c: see http_response.h. */
#define _POSIX_C_SOURCE 200809L
#include "examples/http/http_response.h"

#include <string.h>
#include <time.h>

#define LITERAL(out, text) http_buffer_append((out), (text), sizeof(text) - 1)

const char* http_date_now(http_date* date) {
  static const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t now = time(NULL);
  if (now == date->second) return date->text;
  struct tm utc;
  if (gmtime_r(&now, &utc) == NULL) return date->text[0] != '\0' ? date->text : NULL;
  /* By hand rather than strftime: the names must not follow the locale. */
  char* t = date->text;
  memcpy(t, kDays[utc.tm_wday % 7], 3);
  t[3] = ',';
  t[4] = ' ';
  t[5] = (char)('0' + utc.tm_mday / 10);
  t[6] = (char)('0' + utc.tm_mday % 10);
  t[7] = ' ';
  memcpy(t + 8, kMonths[utc.tm_mon % 12], 3);
  t[11] = ' ';
  int year = utc.tm_year + 1900;
  if (year < 0 || year > 9999) year = 9999;
  t[12] = (char)('0' + year / 1000);
  t[13] = (char)('0' + year / 100 % 10);
  t[14] = (char)('0' + year / 10 % 10);
  t[15] = (char)('0' + year % 10);
  t[16] = ' ';
  t[17] = (char)('0' + utc.tm_hour / 10);
  t[18] = (char)('0' + utc.tm_hour % 10);
  t[19] = ':';
  t[20] = (char)('0' + utc.tm_min / 10);
  t[21] = (char)('0' + utc.tm_min % 10);
  t[22] = ':';
  t[23] = (char)('0' + utc.tm_sec / 10 % 10);
  t[24] = (char)('0' + utc.tm_sec % 10);
  memcpy(t + 25, " GMT", 5); /* with the NUL */
  date->second = now;
  return date->text;
}

const char* http_status_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void http_write_head(http_buffer* out, const http_response_head* head) {
  int status = head->status >= 100 && head->status <= 999 ? head->status : 500;
  LITERAL(out, "HTTP/1.1 ");
  http_buffer_append_decimal(out, (unsigned long long)status);
  LITERAL(out, " ");
  http_buffer_append_str(out, http_status_reason(status));
  LITERAL(out, "\r\nServer: weft\r\n");
  if (head->date != NULL) {
    LITERAL(out, "Date: ");
    http_buffer_append_str(out, head->date);
    LITERAL(out, "\r\n");
  }
  if (!head->keep_alive) {
    LITERAL(out, "Connection: close\r\n");
  } else if (head->http10_client) {
    LITERAL(out, "Connection: keep-alive\r\n");
  }
  if (head->content_type != NULL) {
    LITERAL(out, "Content-Type: ");
    http_buffer_append_str(out, head->content_type);
    LITERAL(out, "\r\n");
  }
  if (head->extra_headers != NULL) http_buffer_append_str(out, head->extra_headers);
}

void http_write_response(http_buffer* out, const http_response_head* head, const void* body,
                         size_t body_len, int head_only) {
  http_write_head(out, head);
  LITERAL(out, "Content-Length: ");
  http_buffer_append_decimal(out, (unsigned long long)body_len);
  LITERAL(out, "\r\n\r\n");
  if (!head_only) http_buffer_append(out, body, body_len);
}

void http_write_chunked_head(http_buffer* out, const http_response_head* head) {
  http_write_head(out, head);
  LITERAL(out, "Transfer-Encoding: chunked\r\n\r\n");
}

void http_write_chunk(http_buffer* out, const void* bytes, size_t len) {
  if (len == 0) return;
  http_buffer_append_hex(out, (unsigned long long)len);
  LITERAL(out, "\r\n");
  http_buffer_append(out, bytes, len);
  LITERAL(out, "\r\n");
}

void http_write_last_chunk(http_buffer* out) { LITERAL(out, "0\r\n\r\n"); }

void http_write_error(http_buffer* out, int status, const char* date) {
  http_response_head head = {status, date, 0, 0, "text/plain", NULL};
  const char* reason = http_status_reason(status);
  http_write_head(out, &head);
  LITERAL(out, "Content-Length: ");
  http_buffer_append_decimal(out, (unsigned long long)strlen(reason) + 1);
  LITERAL(out, "\r\n\r\n");
  http_buffer_append_str(out, reason);
  LITERAL(out, "\n");
}

void http_write_continue(http_buffer* out) { LITERAL(out, "HTTP/1.1 100 Continue\r\n\r\n"); }
