// weft::Generator<T>: an async generator — a coroutine that co_yields values
// and may co_await in between, consumed by a task (asyncio's async
// generators and `async for`).
//
//   weft::Generator<int> ticks(int n) {
//     for (int i = 0; i < n; ++i) {
//       co_await weft::sleep(10ms);
//       co_yield i;
//     }
//   }
//   ...
//   auto gen = ticks(5);
//   while (auto tick = co_await gen.next()) use(*tick);   // C++'s `async for`
//
// - Lazy: nothing runs until the first next(). Each next() runs the
//   generator, inside the consuming task, until its next co_yield (the value
//   comes back in the optional), its end (std::nullopt), or an exception
//   (rethrown by next(); the generator is then finished). While it runs, the
//   generator's own co_awaits suspend the consumer; a cancelled consumer
//   cancels them, so Cancelled goes through the generator (its cleanup runs)
//   and out of next().
// - Early exit: destroying a Generator that has not finished destroys its
//   frame at once (its locals' destructors run: RAII cleanup). Cleanup that
//   must await: co_await gen.aclose(), which resumes the generator with
//   weft::GeneratorExit thrown from its co_yield; it may catch it, await
//   (after the catch block: C++ allows no co_await inside a handler), and
//   must then finish (yielding again is an error). Loop::shutdown_generators()
//   does aclose() on every generator of the loop still suspended at a
//   co_yield.
// - Move-only; not thread-safe: use it from tasks of one loop. One next() at
//   a time (a second one while the first runs throws invalid_state).
// - Values are moved out of the generator: co_yield copies an lvalue, moves
//   an rvalue.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/detail/frame_pool.h"
#include "core/error.h"
#include "core/loop/loop.h"
#include "core/loop/loop_access.h"
#include "core/task/task.h"

namespace weft {

// Thrown into an async generator at its co_yield by aclose(). Not a
// std::exception, so `catch (const std::exception&)` does not swallow it.
class GeneratorExit {
 public:
  const char* what() const noexcept { return "GeneratorExit"; }
};

template <class T>
class Generator;

namespace detail {

template <class T>
class GeneratorPromise final : public GeneratorNode {
 public:
  enum class State : unsigned char { fresh, suspended, running, finished };

  static void* operator new(std::size_t bytes) { return allocate_frame(bytes); }
  static void operator delete(void* frame, std::size_t bytes) noexcept {
    deallocate_frame(frame, bytes);
  }

  GeneratorPromise() = default;
  ~GeneratorPromise() { unregister(); }

  Generator<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }

  struct YieldAwaiter {
    GeneratorPromise* promise;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
      if (promise->closing_) promise->ignored_exit_ = true;
      promise->state_ = State::suspended;
      return promise->hand_back();
    }
    void await_resume() const {
      if (promise->closing_) throw GeneratorExit();
    }
  };
  struct FinalAwaiter {
    GeneratorPromise* promise;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
      promise->state_ = State::finished;
      promise->unregister();
      return promise->hand_back();
    }
    void await_resume() const noexcept {}
  };

  template <class U = T>
  YieldAwaiter yield_value(U&& value) {
    value_.emplace(std::forward<U>(value));
    return YieldAwaiter{this};
  }
  FinalAwaiter final_suspend() noexcept { return FinalAwaiter{this}; }
  void return_void() noexcept {}
  void unhandled_exception() noexcept {
    try {
      throw;
    } catch (const GeneratorExit&) {
      if (!closing_) exception_ = std::current_exception();
    } catch (...) {
      exception_ = std::current_exception();
    }
  }

  // The task the generator runs in (the consumer's), for its awaits.
  TaskState* root() noexcept { return root_; }
  State state() const noexcept { return state_; }

  // Runs the generator inside `consumer` (a coroutine of the task `root`)
  // until it yields, finishes or throws. Returns true if the consumer must
  // suspend (the generator suspended on an await; it resumes the consumer
  // when it yields or finishes).
  bool run_for(TaskState& root, std::coroutine_handle<> consumer) {
    if (state_ == State::running) {
      throw Exception(Errc::invalid_state, "the async generator is already running");
    }
    root_ = &root;
    consumer_ = consumer;
    if (loop_ == nullptr && !detached_) {
      loop_ = &root.loop();
      detail::LoopAccess::register_generator(*loop_, *this);
    }
    state_ = State::running;
    inline_start_ = true;
    completed_inline_ = false;
    handle().resume();
    inline_start_ = false;
    return !completed_inline_;
  }

  // next()'s outcome: the yielded value, nothing (finished), or the exception.
  std::optional<T> take_next() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    if (!value_) return std::nullopt;
    std::optional<T> out(std::move(*value_));
    value_.reset();
    return out;
  }

  // aclose(): ask the generator to finish. False if there is nothing to run
  // (never started: it is finished now; or already finished).
  bool begin_close() noexcept {
    if (state_ == State::fresh) {
      state_ = State::finished;
      unregister();
      return false;
    }
    if (state_ == State::finished) return false;
    closing_ = true;
    return true;
  }
  // aclose()'s outcome.
  void end_close() {
    value_.reset();
    if (ignored_exit_) {
      throw Exception(Errc::invalid_state, "the async generator yielded after GeneratorExit");
    }
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
  }

  // References: the Generator object's, and a finaliser's while it runs.
  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) handle().destroy();
  }

  // GeneratorNode.
  bool start_finalizing() override;
  void detach_from_loop() noexcept override {
    registered_ = false;
    loop_ = nullptr;
    detached_ = true;
  }

 private:
  std::coroutine_handle<GeneratorPromise> handle() noexcept {
    return std::coroutine_handle<GeneratorPromise>::from_promise(*this);
  }
  std::coroutine_handle<> hand_back() noexcept {
    if (inline_start_) {
      completed_inline_ = true;
      return std::noop_coroutine();
    }
    return consumer_;
  }
  void unregister() noexcept {
    if (loop_ != nullptr && registered_) detail::LoopAccess::unregister_generator(*loop_, *this);
    registered_ = false;
  }

  TaskState* root_ = nullptr;
  std::coroutine_handle<> consumer_;
  Loop* loop_ = nullptr;
  std::optional<T> value_;
  std::exception_ptr exception_;
  int refs_ = 1;
  State state_ = State::fresh;
  bool registered_ = true;   // meaningful once loop_ is set
  bool detached_ = false;
  bool inline_start_ = false;
  bool completed_inline_ = false;
  bool closing_ = false;
  bool ignored_exit_ = false;
};

template <class T>
class NextAwaiter {
 public:
  explicit NextAwaiter(GeneratorPromise<T>* promise) noexcept : promise_(promise) {}
  bool await_ready() const noexcept {
    return promise_->state() == GeneratorPromise<T>::State::finished;
  }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> consumer) {
    return promise_->run_for(root_of(consumer), consumer);
  }
  std::optional<T> await_resume() { return promise_->take_next(); }

 private:
  GeneratorPromise<T>* promise_;
};

template <class T>
class CloseAwaiter {
 public:
  explicit CloseAwaiter(GeneratorPromise<T>* promise) noexcept : promise_(promise) {}
  bool await_ready() noexcept { return !(needs_run_ = promise_->begin_close()); }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> consumer) {
    return promise_->run_for(root_of(consumer), consumer);
  }
  void await_resume() {
    if (needs_run_) promise_->end_close();
  }

 private:
  GeneratorPromise<T>* promise_;
  bool needs_run_ = false;
};

}  // namespace detail

template <class T>
class [[nodiscard]] Generator {
 public:
  using promise_type = detail::GeneratorPromise<T>;
  using value_type = T;

  Generator() noexcept = default;
  Generator(Generator&& other) noexcept : promise_(std::exchange(other.promise_, nullptr)) {}
  Generator& operator=(Generator&& other) noexcept {
    if (this != &other) {
      reset();
      promise_ = std::exchange(other.promise_, nullptr);
    }
    return *this;
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  ~Generator() { reset(); }

  bool valid() const noexcept { return promise_ != nullptr; }
  bool done() const noexcept {
    return promise_ == nullptr || promise_->state() == promise_type::State::finished;
  }

  // co_await gen.next(): the next value, or std::nullopt at the end.
  detail::NextAwaiter<T> next() {
    require("next");
    return detail::NextAwaiter<T>(promise_);
  }
  // co_await gen.aclose(): finish the generator now (see the header comment).
  detail::CloseAwaiter<T> aclose() {
    require("aclose");
    return detail::CloseAwaiter<T>(promise_);
  }

 private:
  friend class detail::GeneratorPromise<T>;
  explicit Generator(promise_type* promise) noexcept : promise_(promise) {}
  void require(const char* what) const {
    if (promise_ == nullptr) {
      throw Exception(Errc::invalid_state, std::string("Generator::") + what + " on an empty generator");
    }
  }
  void reset() noexcept {
    if (promise_ != nullptr) std::exchange(promise_, nullptr)->release();
  }

  promise_type* promise_ = nullptr;
};

namespace detail {

template <class T>
Generator<T> GeneratorPromise<T>::get_return_object() noexcept {
  return Generator<T>(this);
}

// Runs aclose() for Loop::shutdown_generators(), holding a reference so the
// frame outlives a Generator destroyed meanwhile.
template <class T>
Task<void> finalize_generator(GeneratorPromise<T>* promise, Loop* loop) {
  struct Hold {
    GeneratorPromise<T>* promise;
    Loop* loop;
    ~Hold() {
      detail::LoopAccess::generator_finalized(*loop);
      promise->release();
    }
  } hold{promise, loop};
  try {
    co_await CloseAwaiter<T>(promise);
  } catch (...) {
    loop->report({ExceptionContext::Kind::generator_error,
                  "an async generator failed while being finalised", std::current_exception(),
                  Duration(0)});
  }
}

template <class T>
bool GeneratorPromise<T>::start_finalizing() {
  if (state_ != State::suspended || loop_ == nullptr) return false;
  add_ref();
  try {
    TaskRef finaliser = spawn(*loop_, finalize_generator(this, loop_), "generator-finaliser");
  } catch (...) {
    release();
    return false;
  }
  return true;
}

}  // namespace detail
}  // namespace weft
