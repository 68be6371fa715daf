// A fuzz target for weft's address parser (weft::SocketAddress::try_parse,
// which every C API function that takes a host and port goes through):
// the input is the text to parse (any bytes, NUL included) after two bytes
// of port. Runs on the fuzzer's thread; owns nothing across inputs.
//
// What must hold for every input:
// - parse and try_parse agree (parse throws exactly when try_parse gives
//   nothing), and nothing crashes or reads past the text;
// - text with a NUL in it is refused (the C API's text ends at its NUL, so
//   a NUL inside would let two different texts name one address);
// - an accepted text names an IPv4 address exactly when it has no ':', the
//   port is the one asked for, and the address's own text (ip()) parses
//   back to the same address, which prints the same text again (an IPv6
//   zone, "fe80::1%lo", is not part of ip(): then only the reparse must
//   succeed);
// - to_string() is "ip:port" for IPv4 and "[ip]:port" for IPv6.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/io/socket_address.h"

namespace {

[[noreturn]] void violated(const char* what, std::string_view text) {
  std::fprintf(stderr, "address fuzz target: invariant violated: %s (text of %zu bytes)\n", what, text.size());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto port = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  const std::optional<weft::SocketAddress> parsed = weft::SocketAddress::try_parse(text, port);
  bool threw = false;
  try {
    const weft::SocketAddress again = weft::SocketAddress::parse(text, port);
    if (!parsed || !(again == *parsed)) violated("parse accepted what try_parse refused, or gave another address", text);
  } catch (const weft::Exception&) {
    threw = true;
  }
  if (threw != !parsed.has_value()) violated("parse threw for a text try_parse accepted", text);
  if (!parsed) return 0;

  const weft::SocketAddress& address = *parsed;
  if (text.find('\0') != std::string_view::npos) violated("a text with a NUL in it was accepted", text);
  const bool has_colon = text.find(':') != std::string_view::npos;
  if (address.is_v6() != has_colon || address.is_v4() == has_colon) violated("the family does not follow the text", text);
  if (address.port() != port) violated("the port is not the one asked for", text);

  const std::string ip = address.ip();
  const std::optional<weft::SocketAddress> reparsed = weft::SocketAddress::try_parse(ip, port);
  const bool has_zone = text.find('%') != std::string_view::npos;
  if (!reparsed || (!has_zone && !(*reparsed == address))) {
    violated("an address's own text does not parse back to it", text);
  }
  if (reparsed->ip() != ip) violated("an address's text changes when parsed again", text);

  const std::string expected = address.is_v6() ? "[" + ip + "]:" + std::to_string(port) : ip + ":" + std::to_string(port);
  if (address.to_string() != expected) violated("to_string is not ip:port ([ip]:port for IPv6)", text);
  return 0;
}
