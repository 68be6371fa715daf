// The loop's exception handler: exceptions escaping callbacks, the default
// handler's report on stderr, a throwing handler, slow-callback reports.
#include <catch2/catch.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

#include "core/loop/loop.h"

using namespace std::chrono_literals;
using Kind = weft::ExceptionContext::Kind;

namespace {

// Sends this process's stderr (fd 2) to a temporary file until text() is
// called, which restores it and returns what was written.
class CapturedStderr {
 public:
  CapturedStderr() {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    file_ = std::tmpfile();
    REQUIRE((saved_ >= 0 && file_ != nullptr));
    REQUIRE(::dup2(::fileno(file_), STDERR_FILENO) == STDERR_FILENO);
  }
  ~CapturedStderr() { restore(); }
  CapturedStderr(const CapturedStderr&) = delete;
  CapturedStderr& operator=(const CapturedStderr&) = delete;

  std::string text() {
    restore();
    std::rewind(file_);
    std::string out;
    char buf[256];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  int saved_ = -1;
  std::FILE* file_ = nullptr;
};

}  // namespace

TEST_CASE("an exception escaping a callback goes to the handler and the loop goes on",
          "[exceptions]") {
  weft::Loop loop;
  std::vector<std::string> seen;
  loop.set_exception_handler([&](const weft::ExceptionContext& c) {
    REQUIRE(c.kind == Kind::callback_exception);
    try {
      std::rethrow_exception(c.exception);
    } catch (const std::exception& e) {
      seen.emplace_back(e.what());
    }
  });
  int after = 0;
  loop.call_soon([] { throw std::runtime_error("first"); });
  loop.call_soon([&] { ++after; });
  loop.call_later(1ms, [] { throw std::logic_error("from a timer"); });
  loop.call_later(2ms, [&] { ++after; });
  loop.run();
  REQUIRE(seen == std::vector<std::string>{"first", "from a timer"});
  REQUIRE(after == 2);
  REQUIRE(loop.stats().exceptions == 2);
}

TEST_CASE("the default handler writes to stderr and does not terminate", "[exceptions]") {
  weft::Loop loop;
  int after = 0;
  loop.call_soon([] { throw std::runtime_error("the first failure"); });
  loop.call_soon([] { throw 42; });  // not even a std::exception
  loop.call_soon([&] { ++after; });
  CapturedStderr err;
  loop.run();
  const std::string text = err.text();
  REQUIRE(after == 1);
  INFO("stderr: " << text);
  REQUIRE(text.find("weft: ") == 0);
  REQUIRE(text.find(": the first failure\n") != std::string::npos);
  REQUIRE(text.find(": a non-standard exception\n") != std::string::npos);
  REQUIRE(text.find("the first failure") < text.find("a non-standard exception"));
}

TEST_CASE("a throwing exception handler does not break the loop", "[exceptions]") {
  weft::Loop loop;
  loop.set_exception_handler([](const weft::ExceptionContext&) { throw std::runtime_error("x"); });
  int after = 0;
  loop.call_soon([] { throw std::runtime_error("y"); });
  loop.call_soon([&] { ++after; });
  CapturedStderr err;
  loop.run();
  const std::string text = err.text();
  REQUIRE(after == 1);
  REQUIRE(text == "weft: the exception handler threw; the exception was dropped\n");
}

TEST_CASE("debug mode reports slow callbacks above the threshold", "[exceptions][diagnostics]") {
  weft::Loop loop(weft::LoopOptions{nullptr, /*debug=*/true, 5ms});
  std::vector<weft::Duration> slow;
  loop.set_exception_handler([&](const weft::ExceptionContext& c) {
    if (c.kind == Kind::slow_callback) slow.push_back(c.duration);
  });
  loop.call_soon([] {});
  loop.call_soon([] { std::this_thread::sleep_for(20ms); });
  loop.run();
  REQUIRE(slow.size() == 1);
  REQUIRE(slow[0] >= 20ms);
  REQUIRE(loop.stats().slow_callbacks == 1);

  loop.set_debug(false);
  loop.call_soon([] { std::this_thread::sleep_for(10ms); });
  loop.run();
  REQUIRE(slow.size() == 1);
}
