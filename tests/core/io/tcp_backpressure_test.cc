// Backpressure: a writer sending 256 MiB to a slow reader keeps its buffered
// memory bounded, whether it awaits each write or pipelines writes and awaits
// drain() above the high-water mark.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "core/result.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::get;

namespace {

constexpr std::size_t kTotal = std::size_t{256} << 20;  // 256 MiB
// How long the whole transfer may take: generous, because under TSan on a
// loaded machine 256 MiB through loopback TCP has taken more than 20 s.
constexpr weft::Duration kTransferLimit = std::chrono::seconds(150);
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kReadPiece = 16 * 1024;

// Chunk i is filled with the byte i % 251, so the reader can check order.
std::string make_chunk(std::size_t index) { return std::string(kChunk, static_cast<char>(index % 251)); }

// Reads everything in small pieces, pausing 1 ms every MiB, and checks the
// bytes; completes `done` at the end. Slower than the writer, so the kernel's
// buffers fill and the writer has to wait.
struct SlowReader {
  weft::Loop& loop;
  weft::TcpStream& stream;
  std::size_t received = 0;
  std::size_t max_read_buffered = 0;
  bool corrupt = false;
  weft::Promise<void> done;

  void next() {
    stream.read_some(kReadPiece).then(loop, [this](weft::Result<std::string> r) {
      if (!r.ok() || r.value().empty()) {
        done.set_error(r.ok() ? weft::Error(weft::Errc::end_of_file) : r.error());
        return;
      }
      const std::string& data = r.value();
      for (std::size_t i = 0; i < data.size(); i += 4096) {
        if (data[i] != static_cast<char>(((received + i) / kChunk) % 251)) corrupt = true;
      }
      received += data.size();
      max_read_buffered = std::max(max_read_buffered, stream.read_buffered());
      if (received == kTotal) {
        done.set_value();
      } else if (received % (1 << 20) < kReadPiece) {
        loop.call_later(1ms, [this] { next(); });
      } else {
        next();
      }
    });
  }
};

}  // namespace

TEST_CASE("a writer awaiting each write holds at most one write's bytes, however slow the reader",
          "[tcp][backpressure]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft_test::Pair pair = weft_test::connected_pair(loop, listener);
  weft::TcpStream& writer = pair.client;
  weft::TcpStream& reader_stream = pair.server;  // (clang 14 cannot capture a structured binding)

  auto reader_done = weft::make_promise<void>();
  SlowReader reader{loop, reader_stream, 0, 0, false, std::move(reader_done.first)};
  reader.next();

  std::size_t sent = 0;
  std::size_t chunk_index = 0;
  std::size_t max_buffered = 0;
  std::size_t writes_that_waited = 0;
  std::function<void()> write_next = [&] {
    auto write = writer.write(make_chunk(chunk_index++));
    max_buffered = std::max(max_buffered, writer.write_buffered());
    if (!write.ready()) ++writes_that_waited;
    std::move(write).then(loop, [&](weft::Result<void> r) {
      REQUIRE(r.ok());
      sent += kChunk;
      if (sent < kTotal) write_next();
    });
  };
  write_next();
  get(loop, std::move(reader_done.second), kTransferLimit);
  REQUIRE(sent == kTotal);
  REQUIRE(reader.received == kTotal);
  REQUIRE_FALSE(reader.corrupt);
  REQUIRE(max_buffered <= kChunk);
  REQUIRE(writes_that_waited > 0);  // the reader really was slower
  // The reader's read-ahead is bounded too.
  REQUIRE(reader.max_read_buffered <= weft::StreamLimits{}.read_high_water + 64 * 1024);
}

TEST_CASE("a pipelining writer that awaits drain() stays under the high-water mark",
          "[tcp][backpressure]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft_test::Pair pair = weft_test::connected_pair(loop, listener);
  weft::TcpStream& writer = pair.client;
  weft::TcpStream& reader_stream = pair.server;  // (clang 14 cannot capture a structured binding)
  weft::StreamLimits limits;
  limits.write_high_water = 1 << 20;
  limits.write_low_water = 256 << 10;
  writer.set_limits(limits);

  auto reader_done = weft::make_promise<void>();
  SlowReader reader{loop, reader_stream, 0, 0, false, std::move(reader_done.first)};
  reader.next();

  std::size_t queued = 0;
  std::size_t chunk_index = 0;
  std::size_t max_buffered = 0;
  std::size_t drains_waited = 0;
  bool failed = false;
  std::function<void()> pump = [&] {
    // Queue writes without awaiting them while under the high-water mark.
    while (queued < kTotal && writer.write_buffered() <= limits.write_high_water) {
      writer.write(make_chunk(chunk_index++)).then(loop, [&](weft::Result<void> r) {
        if (!r.ok()) failed = true;
      });
      queued += kChunk;
      max_buffered = std::max(max_buffered, writer.write_buffered());
    }
    if (queued == kTotal) return;
    auto drained = writer.drain();
    if (!drained.ready()) ++drains_waited;
    std::move(drained).then(loop, [&](weft::Result<void> r) {
      REQUIRE(r.ok());
      REQUIRE(writer.write_buffered() <= limits.write_high_water);
      pump();
    });
  };
  pump();
  get(loop, std::move(reader_done.second), kTransferLimit);
  REQUIRE_FALSE(failed);
  REQUIRE(reader.received == kTotal);
  REQUIRE_FALSE(reader.corrupt);
  REQUIRE(drains_waited > 0);
  REQUIRE(max_buffered <= limits.write_high_water + kChunk);
}
