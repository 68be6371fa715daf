// redis::Subscriber: a connection in Redis's subscribe mode, with the
// messages published to its channels as an async stream (a weft::Generator).
//
//   redis::Subscriber sub = co_await redis::Subscriber::connect(loop, address);
//   co_await sub.subscribe({"news", "alerts"});     // returns once the server confirmed
//   auto messages = sub.messages();
//   while (auto message = co_await messages.next()) use(message->channel, message->payload);
//
// - subscribe()/unsubscribe() send the command and wait for the server's
//   confirmation of every channel; messages that arrive meanwhile are kept
//   and come out of messages() first, none is lost.
// - messages() ends (std::nullopt) once the connection is subscribed to no
//   channel any more; it throws weft::Exception if the connection fails
//   (Errc::end_of_file when the server goes away). Stopping early, or
//   cancelling the consuming task, leaves the connection usable only for
//   closing (a partly read message would desynchronise it), as with
//   Connection.
// - PUBLISH goes through an ordinary Connection (a subscribed connection
//   accepts only (un)subscribe commands).
//
// Threads: the loop's thread; one task uses a Subscriber at a time (one
// subscribe() or messages().next() pending at once). Owns its connection;
// movable, but must outlive a messages() generator and pending calls.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/redis/redis_client.h"

namespace redis {

struct Message {
  std::string channel;
  std::string payload;
};

class Subscriber {
 public:
  Subscriber() noexcept;
  Subscriber(Subscriber&&) noexcept;
  Subscriber& operator=(Subscriber&&) noexcept;
  ~Subscriber();

  static weft::Task<Subscriber> connect(weft::Loop& loop, weft::SocketAddress address,
                                        ConnectOptions options = {});

  weft::Task<void> subscribe(std::vector<std::string> channels);
  weft::Task<void> unsubscribe(std::vector<std::string> channels);
  weft::Generator<Message> messages();

  // The channels the server confirmed.
  const std::set<std::string>& channels() const;
  void close() noexcept;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// messages.next() as a Task, for weft::wait_for and friends:
//   auto message = co_await weft::wait_for(redis::next_message(messages), 5s);
weft::Task<std::optional<Message>> next_message(weft::Generator<Message>& messages);

}  // namespace redis
