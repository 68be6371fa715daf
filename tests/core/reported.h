// collect_reported: points a loop's exception handler at a list of the
// messages of the exceptions that escaped its callbacks (each must be a
// callback_exception and a std::exception), for tests that make a callback
// throw and check that the loop reported it and went on. Loop thread.
#pragma once

#include <catch2/catch.hpp>

#include <exception>
#include <string>
#include <vector>

#include "core/loop/loop.h"

namespace weft_test {

inline void collect_reported(weft::Loop& loop, std::vector<std::string>& messages) {
  loop.set_exception_handler([&messages](const weft::ExceptionContext& c) {
    CHECK(c.kind == weft::ExceptionContext::Kind::callback_exception);
    try {
      std::rethrow_exception(c.exception);
    } catch (const std::exception& e) {
      messages.emplace_back(e.what());
    }
  });
}

}  // namespace weft_test
