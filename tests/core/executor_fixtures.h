// Test fixtures for executors: a one-shot Gate that jobs wait on, and a
// ManualExecutor that holds callbacks until the test runs them.
#pragma once

#include <atomic>
#include <utility>
#include <vector>

#include "core/executor/executor.h"

namespace weft_test {

// A one-shot gate that jobs (on any thread) wait on until the test opens it.
class Gate {
 public:
  void wait() const { open_.wait(false, std::memory_order_acquire); }
  void open() {
    open_.store(true, std::memory_order_release);
    open_.notify_all();
  }

 private:
  std::atomic<bool> open_{false};
};

// An executor that stores callbacks until the test runs them, and refuses
// once told to. Single-threaded: the test drives it.
class ManualExecutor final : public weft::Executor {
 public:
  bool execute(weft::Callback callback) override {
    if (refuse) return false;
    pending.push_back(std::move(callback));
    return true;
  }
  // Runs what is pending now (not what that posts).
  void run_pending() {
    std::vector<weft::Callback> batch;
    batch.swap(pending);
    for (weft::Callback& cb : batch) cb.invoke_once();
  }

  bool refuse = false;
  std::vector<weft::Callback> pending;
};

}  // namespace weft_test
