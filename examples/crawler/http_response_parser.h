// crawler::HttpResponseParser: one HTTP/1.1 response parsed incrementally by
// Debian's http_parser (no hand-written HTTP parsing): status, headers, and
// the body whether delimited by Content-Length, chunked, or the end of the
// connection.
//
//   crawler::HttpResponseParser parser;
//   while (!parser.complete()) {
//     std::string data = co_await stream.read_some();
//     if (data.empty()) { parser.finish(); break; }     // end of stream
//     parser.feed(data);
//   }
//   crawler::HttpResponse response = parser.take_response();
//
// Errors throw weft::Exception: Errc::io_error with http_parser's own
// description for malformed input, Errc::message_too_long past the body
// limit, Errc::end_of_file when the stream ends before the response does.
//
// Plain object, one thread at a time; not movable (http_parser points back
// at it).
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crawler {

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as sent
  std::string body;                                          // chunked bodies de-chunked
  bool chunked = false;                                      // Transfer-Encoding: chunked
  bool keep_alive = false;  // the connection may carry another request

  // The first header of that name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

class HttpResponseParser {
 public:
  static constexpr std::size_t kDefaultMaxBody = 256u << 20;

  explicit HttpResponseParser(std::size_t max_body = kDefaultMaxBody);
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Parses `data`; returns how many bytes belonged to this response (the
  // rest, if any, came after it).
  std::size_t feed(std::string_view data);
  // The stream ended: completes a body delimited by the connection's end, or
  // throws Errc::end_of_file if the response is incomplete.
  void finish();
  // True once the whole response has been parsed.
  bool complete() const noexcept { return complete_; }
  // True once any byte of a response arrived.
  bool started() const noexcept { return started_; }
  HttpResponse take_response() { return std::move(response_); }

 private:
  static int on_message_begin(http_parser* parser);
  static int on_status(http_parser* parser, const char* at, std::size_t length);
  static int on_header_field(http_parser* parser, const char* at, std::size_t length);
  static int on_header_value(http_parser* parser, const char* at, std::size_t length);
  static int on_headers_complete(http_parser* parser);
  static int on_body(http_parser* parser, const char* at, std::size_t length);
  static int on_message_complete(http_parser* parser);
  static HttpResponseParser& self(http_parser* parser) {
    return *static_cast<HttpResponseParser*>(parser->data);
  }
  [[noreturn]] void throw_parse_error() const;

  http_parser parser_;
  http_parser_settings settings_;
  HttpResponse response_;
  std::size_t max_body_;
  bool in_value_ = false;  // the last header callback was a value
  bool complete_ = false;
  bool started_ = false;
  bool too_long_ = false;
};

}  // namespace crawler
