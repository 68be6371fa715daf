// weft::detail::TaskState: the state every Task<T> carries, placed in front
// of its coroutine frame in the same block.
//
//   [ TaskStateT<T> | coroutine frame (promise, locals, awaiters) ]
//
// One allocation per task, from the loop's FramePool. The state outlives the
// frame: the frame is destroyed as soon as the coroutine finishes, the state
// when the last reference goes (the coroutine holds one until its frame is
// destroyed, each TaskHandle one). The result lives here, so handles read it
// after the frame is gone.
//
// Roots and children. A task given to spawn() is a root: it is registered
// with its loop, has handles, waiters and a cancellation state. A task that
// is co_awaited from another coroutine is a child: it runs inline in its
// parent's task (no scheduling), points at the root, and cancellation, "what
// it awaits" and the loop are the root's. Root-only and child-only fields
// share space (Part).
//
// Cancellation protocol (loop thread):
// - request_cancel() counts the request (cancelling()), marks it pending, and
//   if the task is suspended on a weft operation calls that operation's
//   Suspension::cancel hook. A hook either interrupts the wait (queues the
//   resume and returns false: the awaiter then takes the pending request and
//   throws Cancelled), or forwards the cancellation to what the task owns (a
//   future, a task, gather's members, a group's children) and returns true:
//   the request is consumed, and the task gets that operation's outcome,
//   normally Cancelled. If the operation had already completed (its resume
//   is queued), the hook does nothing and the request stays pending.
// - A pending request is delivered at the task's next suspension point: the
//   awaiter does not suspend and throws Cancelled. Awaiters with nothing to
//   lose (sleep, yield, Event, wait) also deliver a request that came after
//   their wait completed; those that hand something over (a value, an item,
//   a lock, a permit) keep it and leave the request for the next suspension
//   point.
// - uncancel() withdraws one request (timeouts use it to turn their own
//   cancellation into TimedOut).
//
// Threads: everything here runs on the loop thread except what the atomics
// carry: the reference count, and `done_` bits that handles read from any
// thread (done(), wait(), result() after done).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/cancel/cancellation.h"
#include "core/detail/frame_pool.h"
#include "core/detail/intrusive_list.h"
#include "core/error.h"
#include "core/loop/loop.h"
#include "core/result.h"

namespace weft::detail {

class TaskState;

// What a suspended task waits on. A weft awaiter that suspends a task derives
// from Suspension, points the root's wait_ at itself while suspended, and
// clears it when it resumes.
struct Suspension;
struct SuspensionOps {
  // The task was cancelled while suspended here (see the protocol above).
  // Returns true if the request is consumed. Loop thread; must not throw and
  // must not resume the task inline (queue the resume).
  bool (*cancel)(Suspension& self) noexcept;
  // Appends what it waits on ("sleep 1.5 s", "Event", "task 'fetch'").
  void (*describe)(const Suspension& self, std::string& out);
};
struct Suspension {
  const SuspensionOps* ops;
};

// A party waiting for a root task to finish (an awaiting coroutine, gather,
// a TaskGroup, a future made by to_future()). Intrusive: it lives in the
// waiter's own storage. on_done runs on the loop thread, inside the task's
// completion, after the result is published; it may free the node.
struct TaskWaiter {
  ListHook hook;  // in the task's waiter list
  void (*on_done)(TaskWaiter& self, TaskState& task) = nullptr;
};
// A root's waiters, in the order they started waiting (one pointer: it lives
// in TaskState::RootPart).
using TaskWaiters = IntrusiveList<TaskWaiter, &TaskWaiter::hook, ListSize::uncounted>;

// A party waiting for many root tasks at once (gather), each known by its
// index. A root holds at most one such waiter, as one word (WaiterSpan) in
// the space of its extras pointer while it has no extras, else in them: a
// member costs its waiter no memory of its own, where a TaskWaiter node
// costs 32 bytes. on_done runs on the loop thread, inside the task's
// completion, after its list waiters were told; it may free the array.
struct WaiterArray {
  void (*on_done)(WaiterArray& self, std::size_t index, TaskState& task) = nullptr;
};

// Up to 2^19 consecutive members of a WaiterArray: the array and the index
// of the first. A member's word is the span's address (below 2^48, 16-byte
// aligned) with the member's offset in the span in the word's top 16 bits
// and bits 1-3, and bit 0 set (the tag that tells the word from an extras
// pointer). An array of more members has a span per 2^19 of them. The
// waiter owns its spans and keeps them until no member holds their words.
struct alignas(16) WaiterSpan {
  static constexpr unsigned kOffsetBits = 19;
  static constexpr std::size_t kMembers = std::size_t{1} << kOffsetBits;
  static constexpr std::uintptr_t kTag = 1;

  WaiterArray* array = nullptr;
  std::size_t first = 0;

  // The word of member `first + offset` (offset < kMembers), or 0 if this
  // span's address leaves no room for it (the member is then waited on with
  // a TaskWaiter node).
  std::uintptr_t word_for(std::size_t offset) const noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(this);
    if ((address >> kAddressBits) != 0) return 0;
    return address | (static_cast<std::uintptr_t>(offset >> kLowBits) << kAddressBits) |
           (static_cast<std::uintptr_t>(offset & kLowMask) << 1) | kTag;
  }
  static const WaiterSpan& of(std::uintptr_t word) noexcept {
    return *reinterpret_cast<const WaiterSpan*>(word & kAddressMask);
  }
  // The member's index in the whole array.
  static std::size_t index_of(std::uintptr_t word) noexcept {
    return of(word).first + (static_cast<std::size_t>(word >> kAddressBits) << kLowBits) +
           ((word >> 1) & kLowMask);
  }

 private:
  static constexpr unsigned kAddressBits = 48;
  static constexpr unsigned kLowBits = 3;  // bits 1-3: below the 16-byte alignment, above the tag
  static constexpr std::uintptr_t kLowMask = (std::uintptr_t{1} << kLowBits) - 1;
  static constexpr std::uintptr_t kAddressMask = ((std::uintptr_t{1} << kAddressBits) - 1) & ~std::uintptr_t{15};
  static_assert(kLowBits + (64 - kAddressBits) == kOffsetBits, "an offset fills the word's free bits");
};
static_assert(sizeof(void*) == 8, "a member's array word packs an address and an offset in 64 bits");

// Resumes a coroutine from the ready queue (an 8-byte record, see
// core/detail/callback_queue.h).
using Resume = ResumeCoroutine;

// Queues a resume of `handle` on `loop`, unless the loop has closed (a
// coroutine that can no longer run is destroyed by close()). Loop thread.
inline void schedule_resume(Loop& loop, std::coroutine_handle<> handle) {
  if (!loop.is_closed()) loop.call_soon(Resume{handle});
}

// A coroutine resumed from the ready queue learns here, on its thread, that
// the resume delivers its task's pending cancellation: the code that queued
// the resume sets it just before resuming, and the awaiter (a yield, which
// keeps no pointer of its own in the frame) takes it first thing in
// await_resume. Loop thread.
void set_cancel_on_resume() noexcept;
bool take_cancel_on_resume() noexcept;

// Name, token link and the like, allocated only for tasks that use them.
struct TaskExtras {
  std::uintptr_t array_word = 0;              // see WaiterSpan; 0: none
  detail::SharedText name;
  std::optional<CancellationSource> source;   // this_task::cancellation_token()
  CancellationRegistration external;          // SpawnOptions::token
};

class TaskState : public TaskNode {
 public:
  // Bits of done_ (atomic: read from any thread).
  static constexpr std::uint32_t kDone = 1;
  static constexpr std::uint32_t kFailed = 2;      // finished with an exception
  static constexpr std::uint32_t kCancelled = 4;   // finished cancelled
  static constexpr std::uint32_t kRetrieved = 8;   // somebody read the outcome

  // Bits of flags_ (loop thread only).
  static constexpr std::uint16_t kStarted = 1;          // spawned or awaited
  static constexpr std::uint16_t kRoot = 2;             // spawned
  static constexpr std::uint16_t kRunning = 4;          // resumed at least once (a child: started)
  static constexpr std::uint16_t kCancelPending = 8;
  static constexpr std::uint16_t kShutdownCancelled = 16;
  static constexpr std::uint16_t kInlineStart = 32;     // child: inside its parent's start call
  static constexpr std::uint16_t kCompletedInline = 64; // child: finished inside that call
  static constexpr std::uint16_t kFrameGone = 128;
  static constexpr std::uint16_t kHasValue = 256;      // the value was stored

  TaskState(const TaskState&) = delete;
  TaskState& operator=(const TaskState&) = delete;

  // ---- references -----------------------------------------------------------
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    // The only reference left: nobody can add one, so no read-modify-write.
    if (refs_.load(std::memory_order_acquire) == 1 ||
        refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      last_release();
    }
  }
  // The coroutine frame of `frame_bytes` was destroyed (its operator
  // delete). The block stays until the last reference; the frame's bytes
  // are dead, so its size is kept in them for the final free.
  void frame_destroyed(std::size_t frame_bytes) noexcept {
    *static_cast<std::uint32_t*>(frame_address()) = static_cast<std::uint32_t>(frame_bytes);
    flags_ |= kFrameGone;
    release();
  }

  // ---- structure ------------------------------------------------------------
  bool is_root() const noexcept { return flags_ & kRoot; }
  bool started() const noexcept { return flags_ & kStarted; }
  TaskState* root() noexcept { return is_root() ? this : part_.child.root; }
  Loop& loop() const noexcept { return *loop_; }
  std::coroutine_handle<> frame() const noexcept { return std::coroutine_handle<>::from_address(frame_address()); }

  // spawn(): makes this task a root on `loop`, registers it, and counts the
  // reference of the handle spawn returns.
  void start_as_root(Loop& loop, std::string_view name);
  // spawn(): queues the root's first step on its loop, as the state's own
  // address (an 8-byte object record). Throws like call_soon.
  void queue_first_step();
  // The state's turn in the ready queue. Either a root's first step (queued
  // by spawn): runs the body, or finishes the task cancelled without running
  // it if it was cancelled before. Or the resume of a yield of this task's
  // coroutine (a root's or a child's, core/task/sleep.h): resumes it, and
  // the yield throws Cancelled if the root has a request pending.
  void run_queued() override {
    if (!(flags_ & kRunning)) {
      if (take_pending_cancel()) {
        abandon();
        return;
      }
      flags_ |= kRunning;
    } else if (root()->take_pending_cancel()) {
      set_cancel_on_resume();
    }
    frame().resume();
  }
  // The ready queue was cleared before the step ran: nothing to do here (the
  // loop's close() destroys the unfinished task itself).
  void drop_queued() noexcept override {}
  // A parent starts this task inline as its child.
  void start_as_child(TaskState& root, std::coroutine_handle<> continuation) noexcept {
    part_.child.root = &root;
    part_.child.continuation = continuation.address();
    loop_ = root.loop_;
    flags_ |= kStarted | kRunning | kInlineStart;
  }
  std::coroutine_handle<> continuation() const noexcept {
    return std::coroutine_handle<>::from_address(part_.child.continuation);
  }

  std::uint16_t flags() const noexcept { return flags_; }
  void set_flags(std::uint16_t bits) noexcept { flags_ |= bits; }
  void clear_flags(std::uint16_t bits) noexcept { flags_ &= static_cast<std::uint16_t>(~bits); }

  // ---- outcome --------------------------------------------------------------
  bool done() const noexcept { return done_.load(std::memory_order_acquire) & kDone; }
  std::uint32_t done_bits() const noexcept { return done_.load(std::memory_order_acquire); }
  // The coroutine body threw (a Cancelled makes the task cancelled).
  void set_exception(std::exception_ptr exception) noexcept;
  // After done only. Every writer stores the same bits (the others no longer
  // change), so a plain store is enough.
  void mark_retrieved() noexcept {
    const std::uint32_t bits = done_.load(std::memory_order_relaxed);
    if (!(bits & kRetrieved)) done_.store(bits | kRetrieved, std::memory_order_relaxed);
  }
  // Throws the failure of a finished task (Cancelled if it was cancelled).
  void rethrow_failure() const;
  // The stored exception of a failed task (null otherwise).
  std::exception_ptr exception() const noexcept {
    const std::exception_ptr* stored = failure();
    return stored != nullptr ? *stored : nullptr;
  }
  bool has_value() const noexcept { return flags_ & kHasValue; }

  // A root finished (final suspend): publishes the outcome, leaves the loop's
  // list, notifies waiters. The caller then destroys the frame.
  void complete_root() noexcept;

  // Blocks the calling thread until done (not the loop's thread).
  void wait_done();

  // ---- waiting for a root ---------------------------------------------------
  void add_waiter(TaskWaiter& waiter) noexcept { part_.root.waiters.push_back(&waiter); }
  void remove_waiter(TaskWaiter& waiter) noexcept { part_.root.waiters.remove(&waiter); }
  // Registers `word` (WaiterSpan::word_for) as this root's array waiter.
  // False if the root already has one: the caller waits with a TaskWaiter
  // instead.
  bool add_array_waiter(std::uintptr_t word) noexcept;
  // Unregisters it before the task finished (the waiter gives up); nothing
  // if the root holds another word or none.
  void remove_array_waiter(std::uintptr_t word) noexcept;
  bool has_array_waiter() const noexcept {
    const TaskExtras* extras = this->extras();
    return (part_.root.extras & WaiterSpan::kTag) || (extras != nullptr && extras->array_word != 0);
  }

  // ---- cancellation (root, loop thread) -------------------------------------
  // Any thread: on the loop thread at once, else posted to it. Returns false
  // if the task had finished (or the loop is closed).
  bool cancel_from_any_thread() noexcept;
  bool request_cancel() noexcept;
  int uncancel() noexcept;
  int cancelling() const noexcept { return cancel_count_; }
  bool cancel_pending() const noexcept { return flags_ & kCancelPending; }
  // Delivers a pending request: clears it and returns true if there was one.
  bool take_pending_cancel() noexcept {
    if (!(flags_ & kCancelPending)) return false;
    flags_ &= static_cast<std::uint16_t>(~kCancelPending);
    return true;
  }
  // A token cancelled with this task (made on first use).
  CancellationToken cancellation_token();
  // Cancels this task when `token` is cancelled (SpawnOptions::token).
  void link_token(const CancellationToken& token);

  // ---- what it waits on (root) ----------------------------------------------
  void set_wait(Suspension* wait) noexcept { part_.root.wait = wait; }
  void clear_wait(Suspension* wait) noexcept {
    if (part_.root.wait == wait) part_.root.wait = nullptr;
  }

  // ---- diagnostics ----------------------------------------------------------
  std::uint32_t id() const noexcept { return id_; }
  std::string name() const;
  TaskStatus status() const noexcept;
  TaskInfo info() const override;

  // TaskNode (the loop's side).
  bool cancel_for_shutdown() noexcept override;
  void destroy_pending() noexcept override;

 protected:
  TaskState() noexcept = default;
  ~TaskState() = default;

  // The typed part: where the frame starts, the stored exception of a failed
  // task, and destroying the outcome and the whole state (freeing the block).
  virtual void* frame_address() const noexcept = 0;
  virtual const std::exception_ptr* failure() const noexcept = 0;
  virtual void destroy_state() noexcept = 0;
  // What the coroutine threw: stored (a Cancelled makes the task cancelled).
  void record_exception(std::exception_ptr exception, std::exception_ptr* slot) noexcept;

  void finish(std::uint32_t outcome) noexcept;
  // Destroys the frame (if any) and finishes cancelled.
  void abandon() noexcept;
  void last_release() noexcept;
  void report_unretrieved() noexcept;

  // What only a root uses, and what only a child uses, share the space.
  struct RootPart {
    TaskWaiters waiters;  // waiting for it to finish
    Suspension* wait;     // what it is suspended on
    // TaskExtras* (name, tokens), or null; or, while there are no extras, a
    // WaiterSpan word (tagged with WaiterSpan::kTag).
    std::uintptr_t extras;
  };
  TaskExtras* extras() const noexcept {
    const std::uintptr_t bits = part_.root.extras;
    return (bits & WaiterSpan::kTag) ? nullptr : reinterpret_cast<TaskExtras*>(bits);
  }
  // The extras, made on first use (keeping an array word the root holds).
  TaskExtras& make_extras();
  // Takes the root's array word (0 if none).
  std::uintptr_t take_array_word() noexcept;
  struct ChildPart {
    void* continuation;   // the parent's frame
    TaskState* root;
  };
  union Part {
    RootPart root;
    ChildPart child;
  };
  static_assert(sizeof(RootPart) == 3 * sizeof(void*), "a root's part is three pointers");

  Loop* loop_ = nullptr;
  Part part_{RootPart{{}, nullptr, 0}};
  std::atomic<std::uint32_t> refs_{1};  // the coroutine's own
  std::atomic<std::uint32_t> done_{0};
  std::uint32_t id_ = 0;
  std::uint16_t cancel_count_ = 0;
  std::uint16_t flags_ = 0;
};

// The state of a Task<T>: TaskState plus the outcome (the value, or the
// exception: they share the space, 8 bytes for an int).
template <class T>
class TaskStateT final : public TaskState {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

  TaskStateT() noexcept = default;

  // The bytes from the start of the state to the frame (16-byte aligned).
  static constexpr std::size_t header_bytes() noexcept;
  static TaskStateT* from_frame(void* frame) noexcept {
    return std::launder(reinterpret_cast<TaskStateT*>(static_cast<char*>(frame) - header_bytes()));
  }

  template <class... A>
  void set_value(A&&... args) {
    ::new (static_cast<void*>(&outcome_.value)) Stored(std::forward<A>(args)...);
    flags_ |= kHasValue;
  }
  void set_exception(std::exception_ptr exception) noexcept {
    record_exception(std::move(exception), &outcome_.exception);
  }

  // The value of a task that finished with one: copied when T can be copied
  // (a handle may be read many times), else moved out (once).
  Stored get_value() {
    if constexpr (std::is_copy_constructible_v<Stored>) {
      return outcome_.value;
    } else {
      return std::move(outcome_.value);
    }
  }

  // The outcome as a Result (the value as get_value() gives it).
  Result<T> get_result() {
    const std::uint32_t bits = done_bits();
    if (bits & kCancelled) return Result<T>::cancelled();
    if (bits & kFailed) return Result<T>(outcome_.exception);
    if constexpr (std::is_void_v<T>) {
      return Result<T>();
    } else {
      return Result<T>(get_value());
    }
  }

  // A child's outcome for its parent: the value, moved out, or throws.
  T take_for_parent() {
    if (!has_value()) rethrow_failure();
    if constexpr (!std::is_void_v<T>) return std::move(outcome_.value);
  }

 private:
  union Outcome {
    Outcome() noexcept {}
    ~Outcome() {}
    Stored value;
    std::exception_ptr exception;
  };

  void* frame_address() const noexcept override {
    return const_cast<char*>(reinterpret_cast<const char*>(this)) + header_bytes();
  }
  const std::exception_ptr* failure() const noexcept override {
    return (done_bits() & kFailed) ? &outcome_.exception : nullptr;
  }
  void destroy_state() noexcept override {
    const std::size_t bytes = header_bytes() + *static_cast<const std::uint32_t*>(frame_address());
    if (has_value()) {
      outcome_.value.~Stored();
    } else if (done_bits() & kFailed) {
      outcome_.exception.~exception_ptr();
    }
    this->~TaskStateT();
    deallocate_frame(this, bytes);
  }

  Outcome outcome_;
};

template <class T>
constexpr std::size_t TaskStateT<T>::header_bytes() noexcept {
  static_assert(alignof(TaskStateT<T>) <= 16, "a task's value must not need more than 16-byte alignment");
  return (sizeof(TaskStateT<T>) + 15) / 16 * 16;
}


}  // namespace weft::detail
