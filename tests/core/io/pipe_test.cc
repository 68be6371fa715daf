// weft::PipeStream and weft::PipeListener: Unix domain sockets, socketpairs
// and pipe descriptors behind the same Stream interface as TCP.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "core/error.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"

using namespace std::chrono_literals;
using weft_test::await;
using weft_test::get;
using weft_test::run_for_a_while;

TEST_CASE("a Unix domain socket carries a request and its reply", "[pipe]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  const std::string path = dir / "echo.sock";
  auto listener = weft::PipeListener::bind(loop, path);
  REQUIRE(listener.path() == path);
  auto accepted = listener.accept();
  auto client = get(loop, weft::PipeStream::connect(loop, path));
  auto server = get(loop, std::move(accepted));

  get(loop, client.write("ping\n"));
  REQUIRE(get(loop, server.read_until("\n")) == "ping\n");
  get(loop, server.write("pong\n"));
  REQUIRE(get(loop, client.read_until("\n")) == "pong\n");

  // Half-close, as on TCP.
  get(loop, client.shutdown());
  REQUIRE(get(loop, server.read_some()).empty());
  get(loop, server.write("still here"));
  REQUIRE(get(loop, client.read_exactly(10)) == "still here");

  // The listener removes its socket file when it closes.
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  listener.close();
  get(loop, listener.wait_closed());
  REQUIRE(::stat(path.c_str(), &st) != 0);
}

TEST_CASE("connecting to a missing socket fails with not_found; binding twice with address_in_use",
          "[pipe]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  auto r = await(loop, weft::PipeStream::connect(loop, dir / "nobody.sock"));
  REQUIRE(r.error().code() == weft::Errc::not_found);

  auto listener = weft::PipeListener::bind(loop, dir / "taken.sock");
  try {
    auto second = weft::PipeListener::bind(loop, dir / "taken.sock");
    FAIL("the second bind succeeded");
  } catch (const weft::Exception& e) {
    REQUIRE(e.code() == weft::Errc::address_in_use);
  }
}

TEST_CASE("a socketpair gives two connected streams", "[pipe]") {
  weft::Loop loop;
  auto [a, b] = weft::PipeStream::pair(loop);
  get(loop, a.write("from a"));
  REQUIRE(get(loop, b.read_exactly(6)) == "from a");
  get(loop, b.write("from b"));
  REQUIRE(get(loop, a.read_exactly(6)) == "from b");
  a.close();
  REQUIRE(get(loop, b.read_some()).empty());
}

TEST_CASE("bytes given back with unread come first to the next read", "[pipe]") {
  weft::Loop loop;
  auto [a, b] = weft::PipeStream::pair(loop);
  get(loop, a.write("head-tail"));
  // Taken and given back whole: into the room the read left in front.
  const std::string head = get(loop, b.read_exactly(5));
  REQUIRE(head == "head-");
  b.unread(head);
  REQUIRE(b.read_buffered() == 9);
  REQUIRE(get(loop, b.read_until("-")) == "head-");
  // Given back more than was taken: the buffer grows in front.
  b.unread("new ");
  b.unread("brand ");
  REQUIRE(get(loop, b.read_exactly(14)) == "brand new tail");
  // Nothing buffered: the next read_some gets the given-back bytes alone.
  b.unread("again");
  REQUIRE(get(loop, b.read_some()) == "again");
  // An empty stream ignores it.
  weft::PipeStream().unread("lost");
}

TEST_CASE("a write to a gone peer fails with broken_pipe, even where SIGPIPE would end the process",
          "[pipe]") {
  struct sigaction before {};
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  REQUIRE(::sigaction(SIGPIPE, &fallback, &before) == 0);  // as a fresh process has it
  weft::Loop loop;
  auto [a, b] = weft::PipeStream::pair(loop);  // making a stream ignores the default SIGPIPE
  b.close();
  auto first = await(loop, a.write("into the void"));
  auto second = await(loop, a.write("and again"));
  REQUIRE((!first.ok() || !second.ok()));
  REQUIRE((first.ok() ? second : first).error().code() == weft::Errc::broken_pipe);
  struct sigaction now {};
  REQUIRE(::sigaction(SIGPIPE, nullptr, &now) == 0);
  REQUIRE(now.sa_handler == SIG_IGN);
  ::sigaction(SIGPIPE, &before, nullptr);
}

TEST_CASE("a pipe's descriptors become streams", "[pipe]") {
  weft::Loop loop;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto reader = weft::PipeStream::open(loop, fds[0]);
  auto writer = weft::PipeStream::open(loop, fds[1]);
  get(loop, writer.write("through a pipe"));
  writer.close();
  REQUIRE(weft_test::read_all(loop, reader) == "through a pipe");
}

TEST_CASE("cancelling a pending accept and read on a Unix socket", "[pipe][cancel]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  auto listener = weft::PipeListener::bind(loop, dir / "s.sock");
  auto accept = listener.accept();
  loop.poll();
  REQUIRE(accept.cancel());
  auto client = get(loop, weft::PipeStream::connect(loop, dir / "s.sock"));
  auto server = get(loop, listener.accept());
  auto read = server.read_some();
  loop.poll();
  REQUIRE(read.cancel());
  get(loop, client.write("kept"));
  REQUIRE(get(loop, server.read_exactly(4)) == "kept");
}

TEST_CASE("a read_until after one that failed searches for its own delimiter from the start", "[pipe]") {
  weft::Loop loop;
  auto [a, b] = weft::PipeStream::pair(loop);
  // The first read_until searches 9 bytes for "\0\0" while it waits (max
  // 12), then fails when 14 bytes hold no "\0\0".
  auto first = b.read_until(std::string_view("\0\0", 2), 12);
  get(loop, a.write(std::string("x\nyz\0a\0bc", 9)));
  for (int i = 0; i < 200 && b.read_buffered() < 9; ++i) run_for_a_while(loop, 1ms);
  REQUIRE(b.read_buffered() == 9);
  REQUIRE_FALSE(first.ready());
  get(loop, a.write("d\nefg"));
  auto failed = await(loop, std::move(first));
  REQUIRE(failed.error().code() == weft::Errc::message_too_long);
  // The next read_until looks for "\n" from the first byte, not from where
  // the failed one stopped searching for "\0\0".
  REQUIRE(get(loop, b.read_until("\n")) == "x\n");
  REQUIRE(get(loop, b.read_until("\n")) == std::string("yz\0a\0bcd\n", 9));
}
