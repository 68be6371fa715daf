// The Redis client against a real redis-server (started by real_servers.py,
// which exports WEFT_TEST_REDIS_PORT): every command, binary-safe and 1 MiB
// values, a pipeline of 10,000 commands, pub/sub, the pool's bound, server
// errors, and failures that must end in an error, never a hang (connection
// refused, the server dropping the connection mid-command, a truncated or
// garbled reply from a fake server, a command timing out).
#include "examples/redis/redis_client.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/redis/redis_pool.h"
#include "examples/redis/redis_subscriber.h"

using namespace std::chrono_literals;

namespace {

weft::SocketAddress redis_address() {
  const char* port = std::getenv("WEFT_TEST_REDIS_PORT");
  if (port == nullptr)
    FAIL("WEFT_TEST_REDIS_PORT is not set: run under tests/servers/real_servers.py --redis");
  return weft::SocketAddress::parse("127.0.0.1", static_cast<std::uint16_t>(std::atoi(port)));
}

// Catch2's REQUIRE names its expression twice and GCC 12 evaluates a
// co_await even in the unevaluated copy, so awaited values are taken into a
// variable before they are checked.

// Runs a test body on a fresh loop, bounded in time: a hang fails the test.
void run(weft::Task<void> body) {
  weft::Loop loop;
  weft::Result<void> result = weft::run_until_complete(loop, weft::wait_for(std::move(body), 60s));
  loop.shutdown(5s);
  loop.close();
  std::move(result).value();  // rethrows a failed REQUIRE or an unexpected exception
}

weft::Task<redis::Connection> connect() {
  co_return co_await redis::Connection::connect(*weft::Loop::current(), redis_address());
}

// A key of this test's own (the server is shared by the test cases).
std::string key(const std::string& name) { return "weft-test:" + name; }

template <class T>
weft::Task<weft::Errc> error_code_of(weft::Task<T> task) {
  try {
    co_await std::move(task);
  } catch (const weft::Cancelled&) {
    throw;
  } catch (const weft::Exception& e) {
    co_return e.code();
  }
  FAIL("expected an error");
  co_return weft::Errc::ok;
}

}  // namespace

TEST_CASE("SET, GET, INCR, DEL, HSET, HGETALL, PUBLISH", "[redis]") {
  run([]() -> weft::Task<void> {
    redis::Connection c = co_await connect();
    co_await c.del(redis::args(key("a"), key("counter"), key("hash")));
    co_await c.set(key("a"), "hello");
    {
      auto got = co_await c.get(key("a"));
      REQUIRE(got == std::optional<std::string>("hello"));
    }
    {
      auto got = co_await c.get(key("missing"));
      REQUIRE(got == std::nullopt);
    }
    {
      auto got = co_await c.incr(key("counter"));
      REQUIRE(got == 1);
    }
    {
      auto got = co_await c.incr(key("counter"));
      REQUIRE(got == 2);
    }
    std::map<std::string, std::string> fields;
    fields["name"] = "weft";
    fields["kind"] = "runtime";
    fields["empty"] = "";
    {
      auto got = co_await c.hset(key("hash"), fields);
      REQUIRE(got == 3);
    }
    std::map<std::string, std::string> update;
    update["name"] = "weft 2";
    {  // updated, not new
      auto got = co_await c.hset(key("hash"), update);
      REQUIRE(got == 0);
    }
    fields["name"] = "weft 2";
    {
      auto got = co_await c.hgetall(key("hash"));
      REQUIRE(got == fields);
    }
    {
      auto got = co_await c.hgetall(key("no-hash"));
      REQUIRE(got.empty());
    }
    {
      auto got = co_await c.publish(key("nobody-listens"), "x");
      REQUIRE(got == 0);
    }
    {
      auto got = co_await c.del(redis::args(key("a"), key("counter"), key("hash"), key("missing")));
      REQUIRE(got == 3);
    }
    {
      auto got = co_await c.get(key("a"));
      REQUIRE(got == std::nullopt);
    }
    redis::Reply pong = co_await c.command(redis::args("PING"));
    REQUIRE(pong.type == redis::Reply::Type::status);
    REQUIRE(pong.text == "PONG");
  }());
}

TEST_CASE("values and keys are binary-safe, and 1 MiB values go through", "[redis]") {
  run([]() -> weft::Task<void> {
    redis::Connection c = co_await connect();
    const std::string binary("a\r\nb\0c\r\n$3\r\n*1\r\n\xff", 17);
    const std::string binary_key = key(std::string("bin\0ary\r\n", 9));
    co_await c.set(binary_key, binary);
    std::optional<std::string> back = co_await c.get(binary_key);
    REQUIRE(back.has_value());
    REQUIRE(back->size() == binary.size());
    REQUIRE(*back == binary);

    std::string large(1 << 20, '\0');
    for (std::size_t i = 0; i < large.size(); ++i)
      large[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    co_await c.set(key("large"), large);
    std::optional<std::string> large_back = co_await c.get(key("large"));
    REQUIRE(large_back.has_value());
    REQUIRE(large_back->size() == large.size());
    REQUIRE(*large_back == large);
    {
      auto got = co_await c.del(redis::args(binary_key, key("large")));
      REQUIRE(got == 2);
    }
  }());
}

TEST_CASE("a pipeline of 10,000 commands: one write, replies in order, errors in place",
          "[redis]") {
  run([]() -> weft::Task<void> {
    redis::Connection c = co_await connect();
    co_await c.del(redis::args(key("pipelined")));
    redis::Pipeline pipeline;
    for (int i = 0; i < 10000; ++i) pipeline.add(redis::args("INCR", key("pipelined")));
    REQUIRE(pipeline.size() == 10000);
    std::vector<redis::Reply> replies = co_await c.execute(std::move(pipeline));
    REQUIRE(replies.size() == 10000);
    for (int i = 0; i < 10000; ++i) REQUIRE(replies[i].as_integer() == i + 1);

    redis::Pipeline mixed;
    mixed.add(redis::args("SET", key("p1"), "one"));
    mixed.add(redis::args("NO-SUCH-COMMAND"));
    mixed.add(redis::args("GET", key("p1")));
    std::vector<redis::Reply> mixed_replies = co_await c.execute(std::move(mixed));
    REQUIRE(mixed_replies.size() == 3);
    REQUIRE(mixed_replies[0].as_string() == "OK");
    REQUIRE(mixed_replies[1].is_error());
    REQUIRE(mixed_replies[1].text.rfind("ERR", 0) == 0);
    REQUIRE(mixed_replies[2].as_string() == "one");
    REQUIRE_THROWS_AS(mixed_replies[1].value_or_throw(), redis::ServerError);
    co_await c.del(redis::args(key("pipelined"), key("p1")));
  }());
}

TEST_CASE("tasks sharing a connection get their own replies", "[redis]") {
  run([]() -> weft::Task<void> {
    redis::Connection c = co_await connect();
    co_await c.del(redis::args(key("shared")));
    std::vector<weft::TaskHandle<long long>> handles;
    for (int i = 0; i < 200; ++i) handles.push_back(weft::spawn(c.incr(key("shared"))));
    std::vector<long long> values = co_await weft::gather(std::move(handles));
    std::sort(values.begin(), values.end());
    for (int i = 0; i < 200; ++i) REQUIRE(values[i] == i + 1);
    co_await c.del(redis::args(key("shared")));
  }());
}

TEST_CASE("pub/sub: confirmed subscriptions, messages in order as an async stream", "[redis]") {
  run([]() -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    redis::Subscriber subscriber = co_await redis::Subscriber::connect(loop, redis_address());
    co_await subscriber.subscribe(redis::args(key("news"), key("alerts")));
    REQUIRE(subscriber.channels() == std::set<std::string>{key("news"), key("alerts")});

    redis::Connection publisher = co_await connect();
    {
      auto got = co_await publisher.publish(key("news"), "first");
      REQUIRE(got == 1);
    }
    {
      auto got = co_await publisher.publish(key("alerts"), std::string("bin\0\r\nary", 9));
      REQUIRE(got == 1);
    }
    {
      auto got = co_await publisher.publish(key("news"), "third");
      REQUIRE(got == 1);
    }
    {
      auto got = co_await publisher.publish(key("elsewhere"), "nobody");
      REQUIRE(got == 0);
    }

    auto messages = subscriber.messages();
    std::vector<redis::Message> received;
    for (int i = 0; i < 3; ++i) {
      std::optional<redis::Message> message =
          co_await weft::wait_for(redis::next_message(messages), 10s);
      REQUIRE(message.has_value());
      received.push_back(std::move(*message));
    }
    REQUIRE(received[0].channel == key("news"));
    REQUIRE(received[0].payload == "first");
    REQUIRE(received[1].channel == key("alerts"));
    REQUIRE(received[1].payload == std::string("bin\0\r\nary", 9));
    REQUIRE(received[2].payload == "third");

    // Published while the subscriber waits for its unsubscribe confirmations:
    // kept, then delivered before the stream ends.
    {
      auto got = co_await publisher.publish(key("news"), "last");
      REQUIRE(got == 1);
    }
    co_await subscriber.unsubscribe(redis::args(key("news"), key("alerts")));
    REQUIRE(subscriber.channels().empty());
    std::optional<redis::Message> last = co_await messages.next();
    REQUIRE(last.has_value());
    REQUIRE(last->payload == "last");
    {  // no channel left: the stream ends
      auto got = co_await messages.next();
      REQUIRE_FALSE(got.has_value());
    }
  }());
}

TEST_CASE("a pool of 4 connections serves 64 concurrent tasks", "[redis]") {
  run([]() -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    redis::Pool pool(loop, redis_address(), 4);
    {
      redis::Pool::Lease setup = co_await pool.acquire();
      co_await setup->del(redis::args(key("pooled")));
    }
    std::size_t most_in_use = 0;
    auto worker = [&](int id) -> weft::Task<void> {
      redis::Pool::Lease c = co_await pool.acquire();
      most_in_use = std::max(most_in_use, pool.in_use());
      co_await c->incr(key("pooled"));
      co_await c->set(key("pooled:") + std::to_string(id), std::to_string(id));
      {
        auto got = co_await c->get(key("pooled:") + std::to_string(id));
        REQUIRE(got == std::optional<std::string>(std::to_string(id)));
      }
    };
    std::vector<weft::TaskHandle<void>> handles;
    for (int id = 0; id < 64; ++id) handles.push_back(weft::spawn(worker(id)));
    co_await weft::gather(std::move(handles));
    REQUIRE(most_in_use == 4);
    REQUIRE(pool.connections_opened() == 4);
    REQUIRE(pool.idle() == 4);
    redis::Reply total = co_await pool.command(redis::args("GET", key("pooled")));
    REQUIRE(total.as_string() == "64");
    std::vector<std::string> keys = redis::args("DEL", key("pooled"));
    for (int id = 0; id < 64; ++id) keys.push_back(key("pooled:") + std::to_string(id));
    {
      auto got = co_await pool.command(keys);
      REQUIRE(got.as_integer() == 65);
    }
  }());
}

TEST_CASE("an error reply is a redis::ServerError with the server's text; the connection goes on",
          "[redis]") {
  run([]() -> weft::Task<void> {
    redis::Connection c = co_await connect();
    try {
      co_await c.command(redis::args("NO-SUCH-COMMAND", "x"));
      FAIL("no error");
    } catch (const redis::ServerError& e) {
      REQUIRE(e.code() == weft::Errc::invalid_argument);
      REQUIRE(std::string(e.what()).rfind("ERR unknown command", 0) == 0);
    }
    co_await c.set(key("string"), "x");
    try {
      co_await c.hgetall(key("string"));
      FAIL("no error");
    } catch (const redis::ServerError& e) {
      REQUIRE(std::string(e.what()).rfind("WRONGTYPE", 0) == 0);
    }
    REQUIRE(c.is_open());
    {
      auto got = co_await c.get(key("string"));
      REQUIRE(got == std::optional<std::string>("x"));
    }
    co_await c.del(redis::args(key("string")));
  }());
}

TEST_CASE("connecting where nothing listens fails with connection_refused", "[redis]") {
  run([]() -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    weft::TcpListener listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    const weft::SocketAddress nowhere = listener.local_address();
    listener.close();
    {
      auto got = co_await error_code_of(redis::Connection::connect(loop, nowhere));
      REQUIRE(got == weft::Errc::connection_refused);
    }
  }());
}

TEST_CASE("the server dropping the connection mid-command is an error, not a hang", "[redis]") {
  run([]() -> weft::Task<void> {
    redis::Connection victim = co_await connect();
    redis::Connection killer = co_await connect();
    const long long id = (co_await victim.command(redis::args("CLIENT", "ID"))).as_integer();
    // BLPOP with no timeout waits forever unless the connection goes.
    weft::TaskHandle<redis::Reply> blocked =
        weft::spawn(victim.command(redis::args("BLPOP", key("never-pushed"), "0")));
    co_await weft::sleep(50ms);
    {
      auto got = co_await killer.command(redis::args("CLIENT", "KILL", "ID", std::to_string(id)));
      REQUIRE(got.as_integer() == 1);
    }
    const weft::Errc code = co_await error_code_of(weft::wait_for(std::move(blocked), 10s));
    REQUIRE((code == weft::Errc::end_of_file || code == weft::Errc::connection_reset));
    REQUIRE_FALSE(victim.is_open());
    {  // the same error from then on
      auto got = co_await error_code_of(victim.get(key("x")));
      REQUIRE(got == code);
    }
  }());
}

TEST_CASE("a command that times out closes its connection", "[redis]") {
  run([]() -> weft::Task<void> {
    redis::Connection c = co_await connect();
    bool timed_out = false;
    try {
      co_await weft::wait_for(c.command(redis::args("BLPOP", key("never-pushed"), "0")), 100ms);
    } catch (const weft::TimedOut&) {
      timed_out = true;
    }
    REQUIRE(timed_out);
    REQUIRE_FALSE(c.is_open());
    {
      auto got = co_await error_code_of(c.get(key("x")));
      REQUIRE(got == weft::Errc::closed);
    }
  }());
}

namespace {

// A fake server: accepts one connection, reads a command, answers `reply`
// and closes.
weft::Task<void> answer_once(weft::TcpListener& listener, std::string reply) {
  weft::TcpStream conn = co_await listener.accept();
  co_await conn.read_some();
  co_await conn.write(std::move(reply));
  conn.close();
}

}  // namespace

TEST_CASE("a reply cut short or garbled is an error", "[redis]") {
  run([]() -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    weft::TcpListener listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    {
      auto server = weft::spawn(answer_once(listener, "$10\r\nabc"));
      redis::Connection c = co_await redis::Connection::connect(loop, listener.local_address());
      {
        auto got = co_await error_code_of(c.get("k"));
        REQUIRE(got == weft::Errc::end_of_file);
      }
      co_await server;
    }
    {
      auto server = weft::spawn(answer_once(listener, "?what is this\r\n"));
      redis::Connection c = co_await redis::Connection::connect(loop, listener.local_address());
      try {
        co_await c.get("k");
        FAIL("no error");
      } catch (const weft::Exception& e) {
        REQUIRE(e.code() == weft::Errc::io_error);
        REQUIRE(std::string(e.what()).find("protocol error") != std::string::npos);
      }
      co_await server;
    }
  }());
}

TEST_CASE("a subscriber whose connection the server drops ends its stream with an error",
          "[redis]") {
  run([]() -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    redis::Subscriber subscriber = co_await redis::Subscriber::connect(loop, redis_address());
    co_await subscriber.subscribe(redis::args(key("doomed")));
    auto messages = subscriber.messages();
    weft::TaskHandle<std::optional<redis::Message>> waiting =
        weft::spawn(redis::next_message(messages));
    co_await weft::sleep(50ms);
    redis::Connection killer = co_await connect();
    redis::Reply killed = co_await killer.command(redis::args("CLIENT", "KILL", "TYPE", "pubsub"));
    REQUIRE(killed.as_integer() >= 1);
    const weft::Errc code = co_await error_code_of(weft::wait_for(std::move(waiting), 10s));
    REQUIRE((code == weft::Errc::end_of_file || code == weft::Errc::connection_reset));
  }());
}

TEST_CASE("a pool drops a connection that broke and opens a fresh one", "[redis]") {
  run([]() -> weft::Task<void> {
    weft::Loop& loop = *weft::Loop::current();
    redis::Pool pool(loop, redis_address(), 1);
    {
      redis::Pool::Lease lease = co_await pool.acquire();
      bool timed_out = false;
      try {
        co_await weft::wait_for(lease->command(redis::args("BLPOP", key("never-pushed"), "0")),
                                50ms);
      } catch (const weft::TimedOut&) {
        timed_out = true;
      }
      REQUIRE(timed_out);
    }
    REQUIRE(pool.idle() == 0);  // not given back
    redis::Reply pong = co_await pool.command(redis::args("PING"));
    REQUIRE(pong.text == "PONG");
    REQUIRE(pool.connections_opened() == 2);
    REQUIRE(pool.idle() == 1);
  }());
}
