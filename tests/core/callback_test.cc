#include "core/detail/callback.h"

#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "tests/core/counted.h"

using weft::Callback;
using weft_test::Counted;
using weft_test::Counts;

TEST_CASE("a small callable is stored inline and runs", "[callback]") {
  int hits = 0;
  Callback cb([&hits] { ++hits; });
  REQUIRE(cb);
  cb();
  cb();
  REQUIRE(hits == 2);
}

TEST_CASE("a callable larger than the inline buffer is boxed and still runs once", "[callback]") {
  Counts counts;
  struct Big {
    Counted counted;
    char padding[200];
    int* hits;
    void operator()() { ++*hits; }
  };
  int hits = 0;
  {
    Callback cb(Big{Counted(counts), {}, &hits});
    Callback moved(std::move(cb));
    REQUIRE_FALSE(cb);
    moved.invoke_once();
    REQUIRE_FALSE(moved);
  }
  REQUIRE(hits == 1);
  REQUIRE(counts.alive() == 0);
}

TEST_CASE("invoke_once destroys the callable even when it throws", "[callback]") {
  Counts counts;
  Callback cb([c = Counted(counts)] { throw std::runtime_error("boom"); });
  REQUIRE_THROWS_AS(cb.invoke_once(), std::runtime_error);
  REQUIRE_FALSE(cb);
  REQUIRE(counts.alive() == 0);
}

TEST_CASE("moving a callback moves its captures and destroys each exactly once", "[callback]") {
  Counts counts;
  {
    Callback a([c = Counted(counts, 7)] { return; });
    Callback b;
    b = std::move(a);
    Callback c(std::move(b));
    REQUIRE(c);
  }
  REQUIRE(counts.alive() == 0);
}

TEST_CASE("a callback holding a move-only capture can be called", "[callback]") {
  auto owned = std::make_unique<std::string>("weft");
  std::string seen;
  Callback cb([p = std::move(owned), &seen] { seen = *p; });
  cb.invoke_once();
  REQUIRE(seen == "weft");
}

TEST_CASE("a callback with arguments and a result forwards both", "[callback]") {
  weft::detail::BasicCallback<int(int, int)> add([](int a, int b) { return a + b; });
  REQUIRE(add(2, 3) == 5);
}
