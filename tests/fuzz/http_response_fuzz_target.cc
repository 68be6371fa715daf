// A fuzz target for the crawler's HTTP response path
// (examples/crawler: crawler::HttpResponseParser on Debian's http_parser):
// the input is what a server sends, after two bytes: one chooses the body
// limit, the other the sizes of the pieces the bytes arrive in. Runs on the
// fuzzer's thread; owns nothing across inputs.
//
// What must hold for every input:
// - nothing crashes or reads out of bounds, and the only exceptions are
//   weft::Exception with Errc::io_error (not HTTP), Errc::message_too_long
//   (a body over the limit) or Errc::end_of_file (the bytes end before the
//   response does, told by finish());
// - the outcome does not depend on how the bytes were split: fed at once and
//   fed in pieces, the parser consumes the same number of bytes and gives the
//   same response (status, reason, headers, body, chunked, keep-alive) or the
//   same error code;
// - feed() never claims more bytes than it was given, a complete response's
//   body is within the limit, and a body sent with Content-Length has that
//   length.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "examples/crawler/http_response_parser.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "http response fuzz target: invariant violated: %s\n", what);
  std::abort();
}

struct Outcome {
  std::optional<weft::Errc> error;
  std::size_t consumed = 0;
  crawler::HttpResponse response;
};

bool allowed(weft::Errc code) {
  return code == weft::Errc::io_error || code == weft::Errc::message_too_long ||
         code == weft::Errc::end_of_file;
}

// Feeds `pieces` of `bytes` (a piece size function) until the response is
// complete, then finish() if the bytes ran out first.
template <class NextSize>
Outcome parse(std::string_view bytes, std::size_t max_body, NextSize next_size) {
  Outcome outcome;
  crawler::HttpResponseParser parser(max_body);
  try {
    while (!bytes.empty() && !parser.complete()) {
      const std::string_view piece = bytes.substr(0, next_size());
      const std::size_t used = parser.feed(piece);
      if (used > piece.size()) violated("feed claimed more bytes than it was given");
      if (!parser.complete() && used != piece.size()) {
        violated("an incomplete response left bytes of a piece unread");
      }
      outcome.consumed += used;
      bytes.remove_prefix(piece.size());
    }
    if (!parser.complete()) parser.finish();
    outcome.response = parser.take_response();
  } catch (const weft::Exception& e) {
    if (!allowed(e.code())) violated("an exception with an unexpected code");
    outcome.error = e.code();
  }
  return outcome;
}

bool same(const crawler::HttpResponse& a, const crawler::HttpResponse& b) {
  return a.status == b.status && a.reason == b.reason && a.headers == b.headers &&
         a.body == b.body && a.chunked == b.chunked && a.keep_alive == b.keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Limits from tiny (the limit paths) to the default.
  const std::size_t max_body = data[0] == 255 ? crawler::HttpResponseParser::kDefaultMaxBody
                                              : static_cast<std::size_t>(data[0]) * 4;
  const std::uint8_t seed = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  const Outcome whole = parse(bytes, max_body, [&] { return bytes.size(); });
  std::uint32_t state = seed * 2654435761u + 1;
  const Outcome pieces = parse(bytes, max_body, [&] {
    state = state * 1103515245u + 12345u;
    return std::size_t{1} + (state >> 16) % (seed % 64 + 1);
  });

  if (whole.error != pieces.error) violated("splitting the bytes changed the error");
  if (whole.error) return 0;
  if (whole.consumed != pieces.consumed) violated("splitting the bytes changed what was consumed");
  if (!same(whole.response, pieces.response)) violated("splitting the bytes changed the response");
  const crawler::HttpResponse& response = whole.response;
  if (response.body.size() > max_body) violated("a body over the limit was accepted");
  const std::string_view length = response.header("Content-Length");
  if (!length.empty() && !response.chunked && response.status >= 200 && response.status != 204 &&
      response.status != 304) {
    std::string digits(length);
    char* end = nullptr;
    const unsigned long long declared = std::strtoull(digits.c_str(), &end, 10);
    if (end != digits.c_str() && *end == '\0' && declared != response.body.size()) {
      violated("a Content-Length body of another length");
    }
  }
  return 0;
}
