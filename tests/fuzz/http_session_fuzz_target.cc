// A fuzz target for the HTTP examples' request path (examples/http/): the
// input's bytes go through http_session (http_parser, the limits, the
// routes) as if a client had sent them, and what the session answers is
// parsed back with http_parser as a client would. Runs on the fuzzer's
// thread; owns nothing across inputs.
//
// Input: byte 0 holds flags (bit 0: the connection times out after the
// bytes; bit 1: the server is draining from the start), byte 1 the size of
// the pieces the rest is fed in (1..256), the rest is the client's bytes.
// Small limits (512 bytes of head, 8 headers, 4 KiB of body) let short
// inputs reach them.
//
// What must hold for every input:
// - the answer is a sequence of complete, well-formed HTTP/1.1 responses,
//   nothing after one that closes the connection: one per request handed
//   to the routes (200, 404 or 405; a HEAD's without its body), then at
//   most one error (400, 413, 431, or 500 for memory) or, after a time-out,
//   one 408; interim 100 Continue responses aside;
// - "Connection: close" on the last response exactly when the session
//   ended the connection (and on every response of a draining session);
// - feeding the bytes in pieces gives the same responses as feeding them
//   at once (but for 100 Continue, sent only when the headers arrive
//   without the body, and the Date header's second; and a request both
//   malformed and too large may get 400 one way and 413/431 the other);
// - nothing leaks, nothing reads out of bounds (ASan).
#include <http_parser.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "examples/http/http_routes.h"
#include "examples/http/http_session.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "http session fuzz target: invariant violated: %s\n", what);
  std::abort();
}

// The routes, recording the method of each request they answer.
struct Recorder {
  std::vector<int> methods;
};

void recording_handler(void* user, const http_request* request, const http_reply* reply) {
  static_cast<Recorder*>(user)->methods.push_back(request->method);
  http_routes_handle(nullptr, request, reply);
}

struct Run {
  std::string answer;
  std::vector<int> methods;
  bool closed = false;
};

Run feed(std::string_view bytes, std::size_t piece, bool time_out, bool drain) {
  const http_limits limits = {512, 8, 4096};
  Recorder recorder;
  http_session session;
  if (http_session_init(&session, &limits, recording_handler, &recorder) != 0) violated("init");
  if (drain) http_session_drain(&session);
  http_buffer out = HTTP_BUFFER_INIT;
  Run run;
  for (std::size_t at = 0; at < bytes.size() && !run.closed; at += piece) {
    const std::string_view part = bytes.substr(at, piece);
    run.closed = http_session_feed(&session, part.data(), part.size(), &out) == HTTP_SESSION_CLOSE;
  }
  if (time_out && !run.closed) {
    http_session_time_out(&session, &out);
    run.closed = true;
  }
  if (out.failed) violated("out of memory in a fuzz run");
  if (run.closed != (http_session_closing(&session) != 0)) violated("closing disagrees");
  run.answer.assign(out.data != nullptr ? out.data : "", out.len);
  run.methods = recorder.methods;
  http_buffer_free(&out);
  http_session_free(&session);
  return run;
}

// A final (non-1xx) response as a client reads it; its Date left out.
struct Response {
  int status = 0;
  std::string headers;  // "name: value\n" each, but Date
  std::string body;
  bool operator==(const Response&) const = default;
};

// Parses an answer as a client would.
struct Client {
  const std::vector<int>* methods = nullptr;
  std::vector<Response> responses;
  std::vector<int> statuses;
  std::vector<bool> closes;
  bool in_message = false;
  bool interim = false;  // the current message is a 100 Continue
  Response current;
  std::string field;
  std::string value;
  bool close_header = false;
  bool last_was_value = false;
};

void end_header(Client& c) {
  if (!c.last_was_value) return;
  if (c.field == "Connection" && c.value == "close") c.close_header = true;
  if (c.field != "Date") c.current.headers += c.field + ": " + c.value + "\n";
  c.field.clear();
  c.value.clear();
  c.last_was_value = false;
}

Client& client_of(http_parser* parser) { return *static_cast<Client*>(parser->data); }

int on_begin(http_parser* parser) {
  Client& c = client_of(parser);
  c.in_message = true;
  c.close_header = false;
  c.current = Response{};
  c.field.clear();
  c.value.clear();
  c.last_was_value = false;
  return 0;
}

int on_field(http_parser* parser, const char* at, std::size_t len) {
  Client& c = client_of(parser);
  end_header(c);
  c.field.append(at, len);
  return 0;
}

int on_value(http_parser* parser, const char* at, std::size_t len) {
  Client& c = client_of(parser);
  c.value.append(at, len);
  c.last_was_value = true;
  return 0;
}

int on_headers_complete(http_parser* parser) {
  Client& c = client_of(parser);
  end_header(c);
  const int status = static_cast<int>(parser->status_code);
  c.interim = status == 100;
  if (c.interim) return 0;
  c.current.status = status;
  c.statuses.push_back(status);
  c.closes.push_back(c.close_header);
  // A HEAD's answer has a Content-Length but no body.
  const std::size_t index = c.statuses.size() - 1;
  if (index < c.methods->size() && (*c.methods)[index] == HTTP_HEAD) return 1;
  return 0;
}

int on_body(http_parser* parser, const char* at, std::size_t len) {
  client_of(parser).current.body.append(at, len);
  return 0;
}

int on_complete(http_parser* parser) {
  Client& c = client_of(parser);
  c.in_message = false;
  if (!c.interim) c.responses.push_back(c.current);
  return 0;
}

std::vector<Response> check_answer(const Run& run, bool time_out, bool drain) {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_message_begin = on_begin;
  settings.on_header_field = on_field;
  settings.on_header_value = on_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_complete;
  Client client;
  client.methods = &run.methods;
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &client;
  const std::size_t parsed = http_parser_execute(&parser, &settings, run.answer.data(), run.answer.size());
  if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || parsed != run.answer.size()) {
    violated("the answer does not parse as HTTP responses");
  }
  if (client.in_message) violated("the answer ends inside a response");

  const std::size_t handled = run.methods.size();
  if (client.statuses.size() < handled || client.statuses.size() > handled + 1) {
    violated("not one response per request (plus at most one error)");
  }
  for (std::size_t i = 0; i < client.statuses.size(); ++i) {
    const int status = client.statuses[i];
    const bool last = i + 1 == client.statuses.size();
    if (i < handled) {
      if (status != 200 && status != 404 && status != 405) violated("a route answered an unexpected status");
    } else if (time_out && run.closed && status == 408) {
      // the time-out's answer
    } else if (status != 400 && status != 413 && status != 431 && status != 500) {
      violated("an unexpected error status");
    }
    if (client.closes[i] && !last) violated("a response after Connection: close");
    if (drain && !client.closes[i]) violated("a draining session kept the connection");
  }
  if (run.closed && !client.statuses.empty() && !client.closes.back() && !time_out) {
    // Closed without saying so is only allowed when nothing was answered
    // after the close was decided, which cannot happen: the session closes
    // only with a response.
    violated("closed after a response without Connection: close");
  }
  if (!run.closed && !client.closes.empty() && client.closes.back()) {
    violated("Connection: close but the session stays open");
  }
  return client.responses;
}

bool is_reader_error(const Response& response) {
  return response.status == 400 || response.status == 413 || response.status == 431;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool time_out = (data[0] & 1) != 0;
  const bool drain = (data[0] & 2) != 0;
  const std::size_t piece = static_cast<std::size_t>(data[1]) + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  const Run whole = feed(bytes, bytes.size() + 1, time_out, drain);
  std::vector<Response> at_once = check_answer(whole, time_out, drain);
  const Run pieces = feed(bytes, piece, time_out, drain);
  std::vector<Response> in_pieces = check_answer(pieces, time_out, drain);
  if (whole.methods != pieces.methods || at_once.size() != in_pieces.size()) {
    violated("feeding in pieces answers other requests");
  }
  // A request both malformed and too large may be refused for either,
  // whichever http_parser meets first in the bytes it was given.
  if (!at_once.empty() && is_reader_error(at_once.back()) && is_reader_error(in_pieces.back())) {
    at_once.pop_back();
    in_pieces.pop_back();
  }
  if (at_once != in_pieces) violated("feeding in pieces answers differently");
  return 0;
}
