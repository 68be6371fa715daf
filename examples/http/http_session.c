/* http_session.c: see http_session.h. */
#include "examples/http/http_session.h"

int http_session_init(http_session* session, const http_limits* limits, http_handler handler,
                      void* handler_user) {
  if (http_reader_init(&session->reader, limits) != 0) return -1;
  session->handler = handler;
  session->handler_user = handler_user;
  session->date.second = (time_t)-1;
  session->date.text[0] = '\0';
  session->closing = 0;
  session->draining = 0;
  return 0;
}

void http_session_free(http_session* session) { http_reader_free(&session->reader); }

static http_session_status close_after(http_session* session) {
  session->closing = 1;
  return HTTP_SESSION_CLOSE;
}

http_session_status http_session_feed(http_session* session, const char* bytes, size_t len,
                                      http_buffer* out) {
  if (session->closing) return HTTP_SESSION_CLOSE;
  for (;;) {
    size_t used = 0;
    http_read_result result = http_reader_feed(&session->reader, bytes, len, &used);
    bytes += used;
    len -= used;
    if (result == HTTP_READ_MORE) break;
    const char* date = http_date_now(&session->date);
    if (result == HTTP_READ_ERROR) {
      http_write_error(out, http_reader_error_status(&session->reader), date);
      return close_after(session);
    }
    const http_request* request = http_reader_request(&session->reader);
    int http10 = request->version_major == 1 && request->version_minor == 0;
    http_reply reply = {
        .out = out,
        .date = date,
        .keep_alive = request->keep_alive && !request->upgrade && !session->draining,
        .http10_client = http10 || request->version_major == 0,
        .head_only = request->method == HTTP_HEAD,
    };
    session->handler(session->handler_user, request, &reply);
    http_reader_next(&session->reader);
    if (!reply.keep_alive || out->failed) return close_after(session);
    if (len == 0) break;
  }
  if (http_reader_take_expect_continue(&session->reader)) http_write_continue(out);
  if (out->failed) return close_after(session);
  return HTTP_SESSION_OPEN;
}

void http_session_time_out(http_session* session, http_buffer* out) {
  if (session->closing) return;
  http_write_error(out, 408, http_date_now(&session->date));
  session->closing = 1;
}

void http_session_drain(http_session* session) { session->draining = 1; }

int http_session_idle(const http_session* session) {
  return !http_reader_in_request(&session->reader);
}

int http_session_closing(const http_session* session) { return session->closing; }
