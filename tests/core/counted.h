// Counted: a value that counts its constructions, moves and destructions, so
// tests can prove a container neither leaks nor double-destroys.
#pragma once

#include <cstddef>

namespace weft_test {

struct Counts {
  int constructed = 0;
  int moved = 0;
  int destroyed = 0;
  int alive() const { return constructed + moved - destroyed; }
};

class Counted {
 public:
  explicit Counted(Counts& counts, int value = 0) : counts_(&counts), value_(value) {
    ++counts_->constructed;
  }
  Counted(Counted&& other) noexcept : counts_(other.counts_), value_(other.value_) {
    ++counts_->moved;
  }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() { ++counts_->destroyed; }
  int value() const { return value_; }

 private:
  Counts* counts_;
  int value_;
};

}  // namespace weft_test
