// redis::Subscriber: (un)subscribe confirmations and pushed messages, told
// apart by the first element of each pushed array.
#include "examples/redis/redis_subscriber.h"

#include <utility>

#include "examples/redis/redis_connection_state.h"

namespace redis {

struct Subscriber::State {
  std::unique_ptr<Connection::State> connection;
  std::set<std::string> channels;
  std::deque<Message> early;  // messages read while waiting for confirmations
};

namespace {

enum class PushKind { message, subscribed, unsubscribed };

// Classifies a pushed reply (an array: kind, channel, payload or count),
// keeping the set of confirmed channels; fills `message` for "message".
PushKind classify(const Reply& reply, Subscriber::State& state, Message& message) {
  reply.value_or_throw();
  const std::vector<Reply>& items = reply.as_array();
  if (items.size() != 3)
    throw weft::Exception(weft::Errc::io_error, "redis: a pushed reply of unexpected shape");
  const std::string& kind = items[0].as_string();
  if (kind == "message") {
    message.channel = items[1].as_string();
    message.payload = items[2].as_string();
    return PushKind::message;
  }
  if (kind == "subscribe") {
    state.channels.insert(items[1].as_string());
    return PushKind::subscribed;
  }
  if (kind == "unsubscribe") {
    if (!items[1].is_nil()) state.channels.erase(items[1].as_string());
    return PushKind::unsubscribed;
  }
  throw weft::Exception(weft::Errc::io_error, "redis: an unexpected pushed reply: " + kind);
}

weft::Task<void> change_subscriptions(Subscriber::State* state, std::string verb,
                                      std::vector<std::string> channels, PushKind confirmation) {
  if (state == nullptr) throw weft::Exception(weft::Errc::closed, "redis: not connected");
  if (channels.empty())
    throw weft::Exception(weft::Errc::invalid_argument, "redis: no channel given");
  std::vector<std::string> args{std::move(verb)};
  args.insert(args.end(), channels.begin(), channels.end());
  Pipeline pipeline;
  pipeline.add(args);
  co_await send_only(state->connection.get(), pipeline.encoded());
  // One confirmation per channel named (the server confirms duplicates too).
  std::size_t confirmed = 0;
  while (confirmed < channels.size()) {
    Reply reply = co_await next_pushed_reply(state->connection.get());
    Message message;
    const PushKind kind = classify(reply, *state, message);
    if (kind == PushKind::message) {
      state->early.push_back(std::move(message));
    } else if (kind == confirmation) {
      ++confirmed;
    }
  }
}

weft::Generator<Message> pushed_messages(Subscriber::State* state) {
  if (state == nullptr) throw weft::Exception(weft::Errc::closed, "redis: not connected");
  for (;;) {
    while (!state->early.empty()) {
      Message message = std::move(state->early.front());
      state->early.pop_front();
      co_yield std::move(message);
    }
    if (state->channels.empty()) co_return;
    Reply reply = co_await next_pushed_reply(state->connection.get());
    Message message;
    if (classify(reply, *state, message) == PushKind::message) co_yield std::move(message);
  }
}

}  // namespace

Subscriber::Subscriber() noexcept = default;
Subscriber::Subscriber(Subscriber&&) noexcept = default;
Subscriber& Subscriber::operator=(Subscriber&&) noexcept = default;
Subscriber::~Subscriber() = default;

weft::Task<Subscriber> Subscriber::connect(weft::Loop& loop, weft::SocketAddress address,
                                           ConnectOptions options) {
  Connection connection = co_await Connection::connect(loop, address, options);
  Subscriber subscriber;
  subscriber.state_ = std::make_unique<State>();
  subscriber.state_->connection = std::move(connection.state_);
  co_return subscriber;
}

weft::Task<void> Subscriber::subscribe(std::vector<std::string> channels) {
  return change_subscriptions(state_.get(), "SUBSCRIBE", std::move(channels), PushKind::subscribed);
}

weft::Task<void> Subscriber::unsubscribe(std::vector<std::string> channels) {
  return change_subscriptions(state_.get(), "UNSUBSCRIBE", std::move(channels),
                              PushKind::unsubscribed);
}

weft::Generator<Message> Subscriber::messages() { return pushed_messages(state_.get()); }

const std::set<std::string>& Subscriber::channels() const {
  static const std::set<std::string> none;
  return state_ ? state_->channels : none;
}

weft::Task<std::optional<Message>> next_message(weft::Generator<Message>& messages) {
  co_return co_await messages.next();
}

void Subscriber::close() noexcept {
  if (state_ && state_->connection) {
    state_->connection->fail(weft::Error(weft::Errc::closed, "redis: the subscriber was closed"));
  }
}

}  // namespace redis
