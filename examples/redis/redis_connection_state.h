// What a redis::Connection (and a redis::Subscriber, which reads pushed
// messages from one) holds: the socket, the reply reader (hiredis's), the
// FIFO in which callers wait for their replies, and the error that broke the
// connection.
// Internal to the Redis client library.
//
// Threads: the loop's thread. Owned by the Connection through a unique_ptr,
// so its address stays put while commands hold it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/weft.h"
#include "examples/redis/redis_client.h"
#include "examples/redis/redis_reply.h"
#include "examples/redis/reply_reader.h"

namespace redis {

struct Connection::State {
  weft::TcpStream stream;
  ReplyReader reader;
  // Callers take it in the order they wrote their commands (it is fair), and
  // hold it while they read their replies.
  weft::Mutex reply_order;
  // Set once: why the connection can no longer be used.
  std::optional<weft::Error> broken;

  // Records the first failure and closes the socket (pending reads fail).
  void fail(weft::Error error) noexcept;
  [[noreturn]] void throw_broken() const;
  // Reads more bytes from the socket into the reader. Throws
  // Exception(end_of_file) if the server closed the connection.
  weft::Task<void> read_more();
};

// Writes `encoded` (`count` commands) and reads their `count` replies, in
// order with every other caller on the connection. Breaks the connection on
// any failure or cancellation.
weft::Task<std::vector<Reply>> exchange(Connection::State* state, std::string_view encoded,
                                        std::size_t count);

// Reads the next reply, with no command of its own (pushed pub/sub messages).
weft::Task<Reply> next_pushed_reply(Connection::State* state);

// Writes commands whose replies the caller reads with next_pushed_reply.
weft::Task<void> send_only(Connection::State* state, std::string encoded);

// Inside a catch block: makes the exception being handled the connection's
// error (a cancellation closes it too), closes it, and throws what the caller
// should see.
[[noreturn]] void break_connection(Connection::State* state);

}  // namespace redis
