// echo_load: W11's load generator (tests/bench/echo_load.h) as a program, for
// the Python echo servers of workloads.py: the same client the C and C++
// servers are measured with.
//
//   echo_load PORT CONNECTIONS MESSAGE_SIZE ROUND_TRIPS
//
// Connects CONNECTIONS times to 127.0.0.1:PORT, keeps one MESSAGE_SIZE-byte
// message in flight on each until ROUND_TRIPS echoes came back whole, and
// prints one JSON object: {"seconds", "round_trips", "p50_us", "p99_us",
// "error"} (error "" on success). Exit status 0, 1 when the run failed its
// checks, 2 for bad arguments. Single-threaded (the calling thread).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/bench/echo_load.h"

namespace {

bool parse(const char* text, unsigned long long low, unsigned long long high,
           unsigned long long* out) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value < low || value > high) return false;
  *out = value;
  return true;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long long port, connections, size, round_trips;
  if (argc != 5 || !parse(argv[1], 1, 65535, &port) || !parse(argv[2], 1, 4096, &connections) ||
      !parse(argv[3], 1, 64ull << 20, &size) || !parse(argv[4], 1, 1ull << 40, &round_trips)) {
    std::fprintf(stderr, "usage: echo_load PORT CONNECTIONS MESSAGE_SIZE ROUND_TRIPS\n");
    return 2;
  }
  const bench::EchoLoadResult result = bench::run_echo_load(
      static_cast<int>(port), static_cast<int>(connections), static_cast<std::size_t>(size),
      round_trips);
  std::printf("{\"seconds\": %.9f, \"round_trips\": %llu, \"p50_us\": %.3f, \"p99_us\": %.3f, "
              "\"error\": %s}\n",
              result.seconds, static_cast<unsigned long long>(result.round_trips), result.p50_us,
              result.p99_us, json_string(result.error).c_str());
  return result.error.empty() ? 0 : 1;
}
