// A stream reading ahead when the memory for the bytes it read is refused:
// the bytes are kept (in the read's scratch buffer, which the stream takes),
// reading stops, and the next read gets every byte, in order. Swept over
// every allocation of the loop passes that read them (refusing_new.h),
// refusing one and then every one from it on, with this thread's
// read-buffer pool empty so that storing the bytes allocates.
#include <catch2/catch.hpp>

#include <string>

#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"
#include "tests/core/refusing_new.h"

using weft_test::get;

TEST_CASE("bytes read ahead under a refused allocation are kept for the next read", "[tcp][alloc]") {
  weft::Loop loop;
  auto listener = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
  weft_test::Pair pair = weft_test::connected_pair(loop, listener);
  for (bool forever : {false, true}) {
    long n = 0;
    for (;; ++n) {
      REQUIRE(n < 100);
      // A read that waits for the kernel: from then on the server reads ahead.
      weft::Future<std::string> first = pair.server.read_exactly(1);
      get(loop, pair.client.write("x"));
      REQUIRE(get(loop, std::move(first)) == "x");
      const std::string sent(3000 + n, static_cast<char>('a' + n % 26));
      get(loop, pair.client.write(sent));
      weft_test::empty_read_buffer_pool();
      bool reached = false;
      {
        weft_test::RefuseAllocation refuse(n, forever);
        weft_test::poll_a_while(loop);
        reached = refuse.reached();
      }
      REQUIRE(get(loop, pair.server.read_exactly(sent.size())) == sent);
      if (!reached) break;
    }
    INFO((forever ? "every allocation from one on" : "one allocation") << " refused");
    REQUIRE(n > 0);
  }
}
