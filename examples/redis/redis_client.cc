// redis::Connection and redis::Pipeline: connecting, encoding commands with
// hiredis, reading replies with ReplyReader (hiredis's reader) in FIFO order.
#include "examples/redis/redis_client.h"

#include <hiredis/hiredis.h>

#include <utility>

#include "examples/redis/redis_connection_state.h"

namespace redis {

// ---- Pipeline ---------------------------------------------------------------

namespace {

void append_command(std::string& out, std::vector<const char*>& argv,
                    const std::vector<std::size_t>& lengths) {
  if (argv.empty()) throw weft::Exception(weft::Errc::invalid_argument, "redis: an empty command");
  char* command = nullptr;
  int length =
      redisFormatCommandArgv(&command, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (length < 0 || command == nullptr)
    throw weft::Exception(weft::Errc::no_memory, "redis: encoding a command");
  out.append(command, static_cast<std::size_t>(length));
  redisFreeCommand(command);
}

template <class Strings>
void append_strings(std::string& out, const Strings& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  append_command(out, argv, lengths);
}

}  // namespace

void Pipeline::add(const std::vector<std::string>& args) {
  append_strings(encoded_, args);
  ++count_;
}

void Pipeline::add(std::initializer_list<std::string_view> args) {
  append_strings(encoded_, args);
  ++count_;
}

// ---- Connection::State ------------------------------------------------------

void Connection::State::fail(weft::Error error) noexcept {
  if (!broken) broken = std::move(error);
  stream.close();
}

void Connection::State::throw_broken() const {
  weft::throw_error(broken ? *broken
                           : weft::Error(weft::Errc::closed, "redis: the connection is closed"));
}

weft::Task<void> Connection::State::read_more() {
  std::string data = co_await stream.read_some();
  if (data.empty())
    throw weft::Exception(weft::Errc::end_of_file, "redis: the server closed the connection");
  reader.feed(data);
}

[[noreturn]] void break_connection(Connection::State* state) {
  try {
    throw;
  } catch (const weft::Cancelled&) {
    state->fail(weft::Error(
        weft::Errc::closed,
        "redis: a command was cancelled while its reply was pending; the connection was closed"));
    throw;
  } catch (...) {
    const bool already_broken = state->broken.has_value();
    state->fail(weft::error_from_current_exception());
    if (already_broken) state->throw_broken();  // the first failure, not "closed"
    throw;
  }
}

weft::Task<std::vector<Reply>> exchange(Connection::State* state, std::string_view encoded,
                                        std::size_t count) {
  if (state == nullptr) throw weft::Exception(weft::Errc::closed, "redis: not connected");
  if (state->broken) state->throw_broken();
  // Queued in call order; the FIFO below is entered before any suspension,
  // so replies are taken in the same order as the commands went out.
  weft::Future<void> written = state->stream.write(encoded);
  std::vector<Reply> replies;
  replies.reserve(count);
  try {
    weft::MutexGuard turn = co_await state->reply_order.lock_guard();
    if (state->broken) state->throw_broken();
    co_await std::move(written);
    while (replies.size() < count) {
      if (std::optional<Reply> reply = state->reader.next()) {
        replies.push_back(std::move(*reply));
        continue;
      }
      std::string data = co_await state->stream.read_some();
      if (data.empty())
        throw weft::Exception(weft::Errc::end_of_file, "redis: the server closed the connection");
      state->reader.feed(data);
    }
  } catch (...) {
    break_connection(state);
  }
  co_return replies;
}

weft::Task<Reply> next_pushed_reply(Connection::State* state) {
  if (state == nullptr) throw weft::Exception(weft::Errc::closed, "redis: not connected");
  if (state->broken) state->throw_broken();
  try {
    for (;;) {
      if (std::optional<Reply> reply = state->reader.next()) co_return std::move(*reply);
      co_await state->read_more();
    }
  } catch (...) {
    break_connection(state);
  }
}

weft::Task<void> send_only(Connection::State* state, std::string encoded) {
  if (state == nullptr) throw weft::Exception(weft::Errc::closed, "redis: not connected");
  if (state->broken) state->throw_broken();
  try {
    co_await state->stream.write(std::move(encoded));
  } catch (...) {
    break_connection(state);
  }
}

// ---- Connection -------------------------------------------------------------

Connection::Connection() noexcept = default;
Connection::Connection(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

weft::Task<Connection> Connection::connect(weft::Loop& loop, weft::SocketAddress address,
                                           ConnectOptions options) {
  auto state = std::make_unique<State>();
  state->stream = co_await weft::TcpStream::connect(
      loop, address, {.timeout = options.connect_timeout, .no_delay = true, .limits = {}});
  co_return Connection(std::move(state));
}

bool Connection::is_open() const noexcept {
  return state_ && !state_->broken && state_->stream.is_open();
}

void Connection::close() noexcept {
  if (state_) state_->fail(weft::Error(weft::Errc::closed, "redis: the connection was closed"));
}

weft::Task<std::vector<Reply>> Connection::execute(Pipeline pipeline) {
  if (pipeline.size() == 0) co_return std::vector<Reply>{};
  co_return co_await exchange(state_.get(), pipeline.encoded(), pipeline.size());
}

namespace {

weft::Task<Reply> checked(Connection::State* state, std::vector<std::string> args) {
  std::string encoded;
  append_strings(encoded, args);
  std::vector<Reply> replies = co_await exchange(state, encoded, 1);
  replies.front().value_or_throw();
  co_return std::move(replies.front());
}

weft::Task<void> expect_ok(Connection::State* state, std::vector<std::string> args) {
  Reply reply = co_await checked(state, std::move(args));
  reply.as_string();  // throws unless a status or string
}

weft::Task<std::optional<std::string>> optional_string(Connection::State* state,
                                                       std::vector<std::string> args) {
  Reply reply = co_await checked(state, std::move(args));
  if (reply.is_nil()) co_return std::nullopt;
  reply.as_string();  // throws unless a string
  co_return std::move(reply.text);
}

weft::Task<long long> integer(Connection::State* state, std::vector<std::string> args) {
  Reply reply = co_await checked(state, std::move(args));
  co_return reply.as_integer();
}

weft::Task<std::map<std::string, std::string>> string_map(Connection::State* state,
                                                          std::vector<std::string> args) {
  Reply reply = co_await checked(state, std::move(args));
  const std::vector<Reply>& items = reply.as_array();
  if (items.size() % 2 != 0)
    throw weft::Exception(weft::Errc::io_error, "redis: an odd number of items for a map");
  std::map<std::string, std::string> fields;
  for (std::size_t i = 0; i < items.size(); i += 2)
    fields[items[i].as_string()] = items[i + 1].as_string();
  co_return fields;
}

}  // namespace

weft::Task<Reply> Connection::command(std::vector<std::string> args) {
  return checked(state_.get(), std::move(args));
}

weft::Task<void> Connection::set(std::string key, std::string value) {
  return expect_ok(state_.get(), {"SET", std::move(key), std::move(value)});
}

weft::Task<std::optional<std::string>> Connection::get(std::string key) {
  return optional_string(state_.get(), {"GET", std::move(key)});
}

weft::Task<long long> Connection::incr(std::string key) {
  return integer(state_.get(), {"INCR", std::move(key)});
}

weft::Task<long long> Connection::del(std::vector<std::string> keys) {
  if (keys.empty())
    throw weft::Exception(weft::Errc::invalid_argument, "redis: DEL needs at least one key");
  keys.insert(keys.begin(), "DEL");
  return integer(state_.get(), std::move(keys));
}

weft::Task<long long> Connection::hset(std::string key, std::map<std::string, std::string> fields) {
  if (fields.empty())
    throw weft::Exception(weft::Errc::invalid_argument, "redis: HSET needs at least one field");
  std::vector<std::string> args{"HSET", std::move(key)};
  args.reserve(2 + 2 * fields.size());
  for (auto& [field, value] : fields) {
    args.push_back(field);
    args.push_back(std::move(value));
  }
  return integer(state_.get(), std::move(args));
}

weft::Task<std::map<std::string, std::string>> Connection::hgetall(std::string key) {
  return string_map(state_.get(), {"HGETALL", std::move(key)});
}

weft::Task<long long> Connection::publish(std::string channel, std::string message) {
  return integer(state_.get(), {"PUBLISH", std::move(channel), std::move(message)});
}

}  // namespace redis
