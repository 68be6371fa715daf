// redis::Connection: a Redis client connection on weft's coroutine tasks.
// Commands are coroutines; replies are parsed by hiredis's reader (RESP),
// commands encoded with hiredis's redisFormatCommandArgv.
//
//   redis::Connection c = co_await redis::Connection::connect(loop, address);
//   co_await c.set("greeting", "hello");
//   std::optional<std::string> v = co_await c.get("greeting");
//   redis::Pipeline p;
//   for (int i = 0; i < 1000; ++i) p.add({"INCR", "counter"});
//   std::vector<redis::Reply> replies = co_await c.execute(p);  // one write, 1000 replies
//
// - Every command is sent at once (writes go out in call order) and its reply
//   is awaited in a FIFO, so several tasks may share one connection and their
//   commands pipeline naturally; execute() sends a whole Pipeline in one write
//   and reads all its replies.
// - Errors: an error reply is thrown as redis::ServerError (a weft::Exception
//   with the server's text) by the typed commands and command(); execute()
//   returns error replies in place so one bad command does not hide the
//   others' replies. Connection refused, the server closing the connection
//   (Errc::end_of_file), a reset, or a protocol error the reader reports
//   (Errc::io_error) throw weft::Exception; after any of these, and after a
//   command was cancelled (or timed out) while its reply was pending, the
//   connection is closed for good and every later command fails with the
//   same error: its replies would no longer match its commands.
// - Binary-safe: keys and values are byte strings (\0 and \r\n inside are
//   fine).
//
// Threads: the loop's thread (the one that connected), like weft::Stream.
// Ownership: a Connection owns its socket and reader; it may be moved, also
// while commands run (they hold its state, not the object), but must outlive
// them. Destroying it closes the socket.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/weft.h"
#include "examples/redis/redis_reply.h"

namespace redis {

struct ConnectOptions {
  // Gives up connecting after this long (Errc::timed_out); 0: no limit.
  weft::Duration connect_timeout = std::chrono::seconds(5);
};

// An argument vector from strings and string literals:
// redis::args("SET", key, value) (braced lists inside coroutines trip GCC 12).
template <class... Parts>
std::vector<std::string> args(Parts&&... parts) {
  std::vector<std::string> out;
  out.reserve(sizeof...(parts));
  (out.emplace_back(std::forward<Parts>(parts)), ...);
  return out;
}

// Commands encoded for sending in one write.
class Pipeline {
 public:
  void add(const std::vector<std::string>& args);
  void add(std::initializer_list<std::string_view> args);
  std::size_t size() const noexcept { return count_; }
  const std::string& encoded() const noexcept { return encoded_; }
  void clear() noexcept {
    encoded_.clear();
    count_ = 0;
  }

 private:
  std::string encoded_;
  std::size_t count_ = 0;
};

class Connection {
 public:
  // An empty connection: every command fails with Errc::closed.
  Connection() noexcept;
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  static weft::Task<Connection> connect(weft::Loop& loop, weft::SocketAddress address,
                                        ConnectOptions options = {});

  // Any command; an error reply throws ServerError.
  weft::Task<Reply> command(std::vector<std::string> args);
  // Sends every command of `pipeline` in one write, then reads all their
  // replies (error replies included, in order).
  weft::Task<std::vector<Reply>> execute(Pipeline pipeline);

  weft::Task<void> set(std::string key, std::string value);
  // std::nullopt if the key does not exist.
  weft::Task<std::optional<std::string>> get(std::string key);
  weft::Task<long long> incr(std::string key);
  // How many of the keys existed.
  weft::Task<long long> del(std::vector<std::string> keys);
  // HSET key field value ...: how many fields were new.
  weft::Task<long long> hset(std::string key, std::map<std::string, std::string> fields);
  // HGETALL: the hash as a map (empty if the key does not exist).
  weft::Task<std::map<std::string, std::string>> hgetall(std::string key);
  // How many subscribers received the message.
  weft::Task<long long> publish(std::string channel, std::string message);

  // False once closed or broken (see above).
  bool is_open() const noexcept;
  void close() noexcept;

  struct State;

 private:
  explicit Connection(std::unique_ptr<State> state) noexcept;
  friend class Subscriber;
  std::unique_ptr<State> state_;
};

}  // namespace redis
