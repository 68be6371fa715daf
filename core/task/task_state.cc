#include "core/task/task_state.h"

#include <cstring>
#include <memory>
#include <string>

#include "core/loop/loop_access.h"

namespace weft::detail {

namespace {

// Holds a reference to a task while a cancellation is posted to its loop; if
// the post is dropped (the loop closed) the reference goes with it.
class PostedCancel {
 public:
  explicit PostedCancel(TaskState* task) noexcept : task_(task) { task_->add_ref(); }
  PostedCancel(PostedCancel&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  PostedCancel& operator=(PostedCancel&&) = delete;
  ~PostedCancel() {
    if (task_ != nullptr) task_->release();
  }
  void operator()() { task_->request_cancel(); }

 private:
  TaskState* task_;
};

thread_local bool tls_cancel_on_resume = false;

}  // namespace

void set_cancel_on_resume() noexcept { tls_cancel_on_resume = true; }

bool take_cancel_on_resume() noexcept { return std::exchange(tls_cancel_on_resume, false); }

TaskExtras& TaskState::make_extras() {
  if (TaskExtras* extras = this->extras()) return *extras;
  auto* extras = new TaskExtras();
  if (part_.root.extras & WaiterSpan::kTag) extras->array_word = part_.root.extras;
  part_.root.extras = reinterpret_cast<std::uintptr_t>(extras);
  return *extras;
}

std::uintptr_t TaskState::take_array_word() noexcept {
  const std::uintptr_t bits = part_.root.extras;
  if (bits & WaiterSpan::kTag) {
    part_.root.extras = 0;
    return bits;
  }
  if (bits == 0) return 0;
  return std::exchange(reinterpret_cast<TaskExtras*>(bits)->array_word, 0);
}

bool TaskState::add_array_waiter(std::uintptr_t word) noexcept {
  const std::uintptr_t bits = part_.root.extras;
  if (bits == 0) {
    part_.root.extras = word;
    return true;
  }
  TaskExtras* extras = this->extras();
  if (extras == nullptr || extras->array_word != 0) return false;
  extras->array_word = word;
  return true;
}

void TaskState::remove_array_waiter(std::uintptr_t word) noexcept {
  if (part_.root.extras == word) {
    part_.root.extras = 0;
  } else if (TaskExtras* extras = this->extras(); extras != nullptr && extras->array_word == word) {
    extras->array_word = 0;
  }
}

void TaskState::start_as_root(Loop& loop, std::string_view name) {
  if (!name.empty()) make_extras().name = SharedText(name);
  loop_ = &loop;
  flags_ |= kStarted | kRoot;
  id_ = LoopAccess::next_task_id(loop);
  LoopAccess::register_task(loop, *this);
  refs_.store(2, std::memory_order_relaxed);  // the coroutine's and the handle's
}

void TaskState::queue_first_step() { LoopAccess::queue_task_step(*loop_, *this); }

void TaskState::record_exception(std::exception_ptr exception, std::exception_ptr* slot) noexcept {
  // Until the task finishes only this thread writes done_.
  try {
    std::rethrow_exception(exception);
  } catch (const Cancelled&) {
    done_.store(done_.load(std::memory_order_relaxed) | kCancelled, std::memory_order_relaxed);
    return;
  } catch (...) {
  }
  ::new (static_cast<void*>(slot)) std::exception_ptr(std::move(exception));
  done_.store(done_.load(std::memory_order_relaxed) | kFailed, std::memory_order_relaxed);
}

void TaskState::rethrow_failure() const {
  const std::uint32_t bits = done_bits();
  if (bits & kCancelled) throw Cancelled();
  if (const std::exception_ptr* stored = failure()) std::rethrow_exception(*stored);
  throw Exception(Errc::invalid_state, "the task has no result");
}

void TaskState::complete_root() noexcept {
  LoopAccess::unregister_task(*loop_, *this);
  part_.root.wait = nullptr;
  if (TaskExtras* extras = this->extras()) extras->external.reset();
  finish(done_.load(std::memory_order_relaxed) & (kFailed | kCancelled));
}

void TaskState::finish(std::uint32_t outcome) noexcept {
  // Until now only this thread wrote done_; handles on other threads read it
  // from here on.
  done_.store(done_.load(std::memory_order_relaxed) | kDone | outcome, std::memory_order_release);
  // In the order they started waiting; each leaves the list before it is
  // told (on_done may free it).
  TaskWaiters waiters(std::move(part_.root.waiters));
  while (TaskWaiter* w = waiters.pop_front()) w->on_done(*w, *this);
  // Then an array waiter (gather), if any.
  if (const std::uintptr_t word = take_array_word()) {
    WaiterArray& array = *WaiterSpan::of(word).array;
    array.on_done(array, WaiterSpan::index_of(word), *this);
  }
}

void TaskState::wait_done() {
  if (done()) return;
  // A waiter node registered on the loop's thread. It keeps itself alive
  // until it has notified (the waiting thread may return as soon as the flag
  // is set).
  struct Blocking : TaskWaiter {
    std::atomic<bool> finished{false};
    std::shared_ptr<Blocking> self;
  };
  auto blocking = std::make_shared<Blocking>();
  blocking->on_done = [](TaskWaiter& waiter, TaskState&) {
    auto& b = static_cast<Blocking&>(waiter);
    std::shared_ptr<Blocking> keep = std::move(b.self);
    b.finished.store(true, std::memory_order_release);
    b.finished.notify_all();
  };
  const bool posted = loop_->call_soon_threadsafe([this, blocking] {
    blocking->self = blocking;
    if (done()) {
      blocking->on_done(*blocking, *this);
    } else {
      add_waiter(*blocking);
    }
  });
  if (!posted) return;  // the loop is closed: close() finished every task
  blocking->finished.wait(false, std::memory_order_acquire);
}

void TaskState::last_release() noexcept {
  const std::uint32_t bits = done_.load(std::memory_order_acquire);
  if (flags_ & kRoot) {
    if ((bits & kFailed) && !(bits & kRetrieved)) report_unretrieved();
    delete extras();
    part_.root.extras = 0;
  }
  destroy_state();
}

void TaskState::report_unretrieved() noexcept {
  try {
    ExceptionContext context{ExceptionContext::Kind::unretrieved_error,
                             "Task exception was never retrieved: " + name(), exception(),
                             Duration(0)};
    Loop* loop = loop_;
    if (loop->in_loop_thread()) {
      loop->report(context);
    } else if (!loop->call_soon_threadsafe([loop, context] { loop->report(context); })) {
      default_exception_handler(context);
    }
  } catch (...) {
    // Out of memory while reporting: nothing better to do.
  }
}

// ---- cancellation -----------------------------------------------------------

bool TaskState::cancel_from_any_thread() noexcept {
  if (done()) return false;
  Loop& loop = *loop_;
  if (loop.in_loop_thread()) return request_cancel();
  try {
    return loop.call_soon_threadsafe(PostedCancel(this));
  } catch (...) {
    return false;
  }
}

bool TaskState::request_cancel() noexcept {
  if (done()) return false;
  if (cancel_count_ < 0xFFFF) ++cancel_count_;
  flags_ |= kCancelPending;
  // The awaited operation first: work polling the token below may finish as
  // soon as it sees it, and must find the task's future already cancelled.
  Suspension* wait = part_.root.wait;
  if (wait != nullptr && wait->ops->cancel(*wait)) take_pending_cancel();
  TaskExtras* extras = this->extras();
  if (extras != nullptr && extras->source) extras->source->cancel();
  return true;
}

int TaskState::uncancel() noexcept {
  if (cancel_count_ > 0 && --cancel_count_ == 0) take_pending_cancel();
  return cancel_count_;
}

CancellationToken TaskState::cancellation_token() {
  TaskExtras& extras = make_extras();
  if (!extras.source) {
    extras.source.emplace();
    if (cancel_count_ > 0 || done()) extras.source->cancel();
  }
  return extras.source->token();
}

void TaskState::link_token(const CancellationToken& token) {
  if (!token.can_be_cancelled()) return;
  TaskExtras& extras = make_extras();
  // Reset when the task finishes (complete_root), so `this` outlives it.
  extras.external = token.on_cancel([this] { cancel_from_any_thread(); });
}

bool TaskState::cancel_for_shutdown() noexcept {
  if (flags_ & kShutdownCancelled) return false;
  flags_ |= kShutdownCancelled;
  return request_cancel();
}

void TaskState::destroy_pending() noexcept { abandon(); }

void TaskState::abandon() noexcept {
  add_ref();  // the state outlives the frame
  LoopAccess::unregister_task(*loop_, *this);
  part_.root.wait = nullptr;
  if (TaskExtras* extras = this->extras()) extras->external.reset();
  if (!(flags_ & kFrameGone)) frame().destroy();
  finish(kCancelled);
  release();
}

// ---- diagnostics ------------------------------------------------------------

std::string TaskState::name() const {
  const TaskState* root = (flags_ & kRoot) ? this : part_.child.root;
  const TaskExtras* extras = root->extras();
  if (extras != nullptr && !extras->name.empty()) return std::string(extras->name.view());
  return "Task-" + std::to_string(root->id_);
}

TaskStatus TaskState::status() const noexcept {
  const std::uint32_t bits = done_bits();
  if (bits & kDone) {
    if (bits & kCancelled) return TaskStatus::cancelled;
    if (bits & kFailed) return TaskStatus::failed;
    return TaskStatus::done;
  }
  if (!(flags_ & kRunning)) return TaskStatus::pending;
  return part_.root.wait != nullptr ? TaskStatus::waiting : TaskStatus::running;
}

TaskInfo TaskState::info() const {
  TaskInfo info;
  info.id = id_;
  info.name = name();
  info.status = status();
  info.cancelling = cancel_count_ > 0;
  const Suspension* wait = part_.root.wait;
  if (wait != nullptr) wait->ops->describe(*wait, info.awaiting);
  return info;
}

}  // namespace weft::detail
