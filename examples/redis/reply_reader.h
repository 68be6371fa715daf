// redis::ReplyReader: RESP replies taken out of the bytes a connection reads,
// with hiredis's reader (no hand-written protocol parsing). Bytes go in with
// feed() in whatever pieces the socket delivers; next() hands out each reply
// once it is complete, in order.
//
//   redis::ReplyReader reader;
//   reader.feed(data);                       // what a read brought
//   while (std::optional<redis::Reply> reply = reader.next()) use(*reply);
//
// Errors throw weft::Exception: Errc::io_error with hiredis's description for
// bytes that are not RESP (the reader stays failed: every later next() throws
// again), Errc::no_memory when hiredis cannot allocate.
//
// Plain object, one thread at a time; movable, not copyable.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "examples/redis/redis_reply.h"

struct redisReader;

namespace redis {

class ReplyReader {
 public:
  ReplyReader();
  ReplyReader(ReplyReader&&) noexcept = default;
  ReplyReader& operator=(ReplyReader&&) noexcept = default;
  ~ReplyReader() = default;

  // Appends bytes read from the server.
  void feed(std::string_view data);
  // The next complete reply, or std::nullopt until more bytes are fed.
  std::optional<Reply> next();

 private:
  struct Free {
    void operator()(redisReader* reader) const noexcept;
  };
  std::unique_ptr<redisReader, Free> reader_;
};

}  // namespace redis
