// crawler::HttpResponseParser: http_parser's callbacks collect the response;
// the parser pauses itself at the end of a message so bytes after it are
// left alone.
#include "examples/crawler/http_response_parser.h"

#include <strings.h>

#include <climits>

#include "core/error.h"

namespace crawler {

std::string_view HttpResponse::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (field.size() == name.size() && strncasecmp(field.data(), name.data(), name.size()) == 0)
      return value;
  }
  return {};
}

HttpResponseParser::HttpResponseParser(std::size_t max_body) : max_body_(max_body) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = &on_message_begin;
  settings_.on_status = &on_status;
  settings_.on_header_field = &on_header_field;
  settings_.on_header_value = &on_header_value;
  settings_.on_headers_complete = &on_headers_complete;
  settings_.on_body = &on_body;
  settings_.on_message_complete = &on_message_complete;
}

std::size_t HttpResponseParser::feed(std::string_view data) {
  if (complete_ || data.empty()) return 0;
  started_ = true;
  const std::size_t used = http_parser_execute(&parser_, &settings_, data.data(), data.size());
  const auto error = static_cast<http_errno>(parser_.http_errno);
  if (error == HPE_PAUSED) return used;  // complete: the rest is not ours
  if (error != HPE_OK) throw_parse_error();
  return used;
}

void HttpResponseParser::finish() {
  if (complete_) return;
  if (started_) {
    http_parser_execute(&parser_, &settings_, nullptr, 0);  // tells it: end of stream
    const auto error = static_cast<http_errno>(parser_.http_errno);
    if (error != HPE_OK && error != HPE_PAUSED && error != HPE_INVALID_EOF_STATE)
      throw_parse_error();
  }
  if (!complete_) {
    throw weft::Exception(weft::Errc::end_of_file,
                          started_ ? "http: the connection closed in the middle of the response"
                                   : "http: the connection closed before a response");
  }
}

void HttpResponseParser::throw_parse_error() const {
  if (too_long_) {
    throw weft::Exception(weft::Errc::message_too_long, "http: the response body is larger than " +
                                                            std::to_string(max_body_) + " bytes");
  }
  const auto error = static_cast<http_errno>(parser_.http_errno);
  throw weft::Exception(weft::Errc::io_error, std::string("http: bad response: ") +
                                                  http_errno_name(error) + ": " +
                                                  http_errno_description(error));
}

int HttpResponseParser::on_message_begin(http_parser* parser) {
  self(parser).response_ = HttpResponse{};
  return 0;
}

int HttpResponseParser::on_status(http_parser* parser, const char* at, std::size_t length) {
  self(parser).response_.reason.append(at, length);
  return 0;
}

int HttpResponseParser::on_header_field(http_parser* parser, const char* at, std::size_t length) {
  HttpResponseParser& p = self(parser);
  if (p.in_value_ || p.response_.headers.empty()) p.response_.headers.emplace_back();
  p.in_value_ = false;
  p.response_.headers.back().first.append(at, length);
  return 0;
}

int HttpResponseParser::on_header_value(http_parser* parser, const char* at, std::size_t length) {
  HttpResponseParser& p = self(parser);
  p.in_value_ = true;
  p.response_.headers.back().second.append(at, length);
  return 0;
}

int HttpResponseParser::on_headers_complete(http_parser* parser) {
  HttpResponseParser& p = self(parser);
  p.response_.status = static_cast<int>(parser->status_code);
  p.response_.chunked = (parser->flags & F_CHUNKED) != 0;
  if (parser->content_length != ULLONG_MAX && parser->content_length > p.max_body_) {
    p.too_long_ = true;
    // Stops with HPE_CB_headers_complete. (1 would not: for http_parser it
    // means "this response has no body", and the response would complete
    // with an empty one.)
    return -1;
  }
  if (parser->content_length != ULLONG_MAX) p.response_.body.reserve(parser->content_length);
  return 0;
}

int HttpResponseParser::on_body(http_parser* parser, const char* at, std::size_t length) {
  HttpResponseParser& p = self(parser);
  if (p.response_.body.size() + length > p.max_body_) {
    p.too_long_ = true;
    return 1;
  }
  p.response_.body.append(at, length);
  return 0;
}

int HttpResponseParser::on_message_complete(http_parser* parser) {
  HttpResponseParser& p = self(parser);
  p.response_.keep_alive = http_should_keep_alive(parser) != 0;
  p.complete_ = true;
  http_parser_pause(parser, 1);
  return 0;
}

}  // namespace crawler
