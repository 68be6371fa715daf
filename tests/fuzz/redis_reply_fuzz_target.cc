// A fuzz target for the Redis client's reply path (examples/redis:
// redis::ReplyReader, hiredis's RESP reader, and Reply::from_hiredis): the
// input is what a server sends, after one byte that chooses the sizes of the
// pieces it arrives in. Runs on the fuzzer's thread; owns nothing across
// inputs.
//
// What must hold for every input:
// - nothing crashes, leaks or reads out of bounds, and the only exceptions
//   are weft::Exception with Errc::io_error (not RESP) — the reader stays
//   failed after one;
// - the replies do not depend on how the bytes were split: fed at once and
//   fed in pieces (taking replies after each piece) give the same replies in
//   the same order, and fail (or not) alike;
// - every reply's typed accessors either return its value or throw a
//   weft::Exception (a ServerError for an error reply), and nested arrays are
//   no deeper than hiredis allows.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "examples/redis/reply_reader.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "redis reply fuzz target: invariant violated: %s\n", what);
  std::abort();
}

struct Outcome {
  std::vector<redis::Reply> replies;
  bool failed = false;
};

bool same(const redis::Reply& a, const redis::Reply& b) {
  if (a.type != b.type || a.text != b.text || a.integer != b.integer ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.elements.size(); ++i) {
    if (!same(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

void check_reply(const redis::Reply& reply, int depth) {
  // hiredis 0.14's reader keeps 9 levels (rstack[9]): 8 nested arrays and
  // what the innermost holds; it refuses deeper nesting.
  if (depth > 9) violated("replies nested deeper than hiredis allows");
  try {
    (void)reply.value_or_throw();
    if (reply.is_error()) violated("value_or_throw returned an error reply");
  } catch (const redis::ServerError&) {
    if (!reply.is_error()) violated("a ServerError for a reply that is not an error");
  }
  try {
    (void)reply.as_string();
  } catch (const weft::Exception&) {
  }
  try {
    (void)reply.as_integer();
  } catch (const weft::Exception&) {
  }
  try {
    for (const redis::Reply& element : reply.as_array()) check_reply(element, depth + 1);
  } catch (const weft::Exception&) {
  }
}

// Takes every complete reply; true if the reader failed.
bool drain(redis::ReplyReader& reader, std::vector<redis::Reply>& out) {
  try {
    while (std::optional<redis::Reply> reply = reader.next()) out.push_back(std::move(*reply));
    return false;
  } catch (const weft::Exception& e) {
    if (e.code() != weft::Errc::io_error) violated("an exception other than io_error");
    return true;
  }
}

bool feed(redis::ReplyReader& reader, std::string_view piece) {
  try {
    reader.feed(piece);
    return false;
  } catch (const weft::Exception& e) {
    if (e.code() != weft::Errc::io_error) violated("feed threw something other than io_error");
    return true;
  }
}

Outcome at_once(std::string_view bytes) {
  Outcome outcome;
  redis::ReplyReader reader;
  outcome.failed = feed(reader, bytes) || drain(reader, outcome.replies);
  if (outcome.failed && !drain(reader, outcome.replies)) {
    violated("the reader recovered after a protocol error");
  }
  return outcome;
}

Outcome in_pieces(std::string_view bytes, std::uint8_t seed) {
  Outcome outcome;
  redis::ReplyReader reader;
  std::uint32_t state = seed * 2654435761u + 1;
  while (!bytes.empty() && !outcome.failed) {
    state = state * 1103515245u + 12345u;
    const std::size_t size = 1 + (state >> 16) % (seed % 32 + 1);
    const std::string_view piece = bytes.substr(0, size);
    bytes.remove_prefix(piece.size());
    outcome.failed = feed(reader, piece) || drain(reader, outcome.replies);
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = at_once(bytes);
  const Outcome pieces = in_pieces(bytes, data[0]);
  if (whole.failed != pieces.failed) violated("splitting the bytes changed whether they parse");
  if (whole.replies.size() != pieces.replies.size()) {
    violated("splitting the bytes changed how many replies they hold");
  }
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    if (!same(whole.replies[i], pieces.replies[i])) violated("splitting the bytes changed a reply");
    check_reply(whole.replies[i], 1);
  }
  return 0;
}
