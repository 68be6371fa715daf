// A tour of the Redis client (the aioredis seed's program in weft's C++):
// SET/GET, INCR, a hash as a map (hmset_dict/hgetall), a pipeline, a pool of
// connections shared by concurrent tasks, pub/sub, and a server error.
//
//   examples/redis/run_demo.sh          # builds it, starts a redis-server, runs it
//   bazel run //examples/redis:redis_demo -- --port 6379     # a server of your own
//
// Runs on the main thread's loop; exits 0 when every step worked, 1 with the
// error otherwise.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/redis/redis_client.h"
#include "examples/redis/redis_pool.h"
#include "examples/redis/redis_subscriber.h"

using namespace std::chrono_literals;

namespace {

weft::Task<void> tour(weft::SocketAddress address) {
  weft::Loop& loop = *weft::Loop::current();
  redis::Connection c = co_await redis::Connection::connect(loop, address);

  co_await c.set("demo:greeting", "hello from weft");
  std::printf("GET demo:greeting -> %s\n",
              (co_await c.get("demo:greeting")).value_or("(nil)").c_str());
  co_await c.del(redis::args("demo:visits"));
  co_await c.incr("demo:visits");
  std::printf("INCR demo:visits twice -> %lld\n", co_await c.incr("demo:visits"));

  std::map<std::string, std::string> fields;
  fields["name"] = "weft";
  fields["language"] = "C++20";
  co_await c.hset("demo:hash", fields);
  std::printf("HGETALL demo:hash ->");
  for (const auto& [field, value] : co_await c.hgetall("demo:hash"))
    std::printf(" %s=%s", field.c_str(), value.c_str());
  std::printf("\n");

  redis::Pipeline pipeline;
  for (int i = 0; i < 1000; ++i) pipeline.add(redis::args("INCR", "demo:pipelined"));
  std::vector<redis::Reply> replies = co_await c.execute(std::move(pipeline));
  std::printf("pipeline of %zu INCRs, last reply %lld\n", replies.size(), replies.back().integer);

  redis::Pool pool(loop, address, 4);
  std::vector<weft::TaskHandle<redis::Reply>> handles;
  for (int i = 0; i < 32; ++i)
    handles.push_back(weft::spawn(pool.command(redis::args("INCR", "demo:pooled"))));
  co_await weft::gather(std::move(handles));
  std::printf("32 tasks through a pool of %zu: %zu connections opened\n", pool.max_connections(),
              pool.connections_opened());

  redis::Subscriber subscriber = co_await redis::Subscriber::connect(loop, address);
  co_await subscriber.subscribe(redis::args("demo:channel"));
  co_await c.publish("demo:channel", "one");
  co_await c.publish("demo:channel", "two");
  auto messages = subscriber.messages();
  for (int i = 0; i < 2; ++i) {
    auto message = co_await weft::wait_for(redis::next_message(messages), 5s);
    std::printf("message on %s: %s\n", message->channel.c_str(), message->payload.c_str());
  }

  try {
    co_await c.command(redis::args("HGETALL", "demo:greeting"));
  } catch (const redis::ServerError& e) {
    std::printf("server error, as expected: %s\n", e.what());
  }
  co_await c.del(
      redis::args("demo:greeting", "demo:visits", "demo:hash", "demo:pipelined", "demo:pooled"));
  std::printf("redis demo done\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  long port = 6379;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--host ADDRESS] [--port PORT]\n", argv[0]);
      return 2;
    }
  }
  weft::Loop loop;
  weft::Result<void> result =
      weft::Result<void>(weft::Error(weft::Errc::invalid_argument, "bad address"));
  if (auto address = weft::SocketAddress::try_parse(host, static_cast<std::uint16_t>(port))) {
    result = weft::run_until_complete(loop, weft::wait_for(tour(*address), 30s));
  }
  loop.shutdown(2s);
  loop.close();
  if (!result.ok()) {
    std::fprintf(stderr, "redis_demo: %s\n", result.error().message().c_str());
    return 1;
  }
  return 0;
}
