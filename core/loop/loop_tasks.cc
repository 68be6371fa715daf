// The Loop's side of tasks and async generators: listing, shutdown, and what
// close() does with the tasks still alive.
#include <string>
#include <vector>

#include "core/loop/loop.h"

namespace weft {

std::vector<TaskInfo> Loop::tasks() const {
  check_owner("tasks");
  std::vector<TaskInfo> out;
  out.reserve(tasks_.size());
  for (const detail::TaskNode* node = tasks_.front(); node != nullptr; node = tasks_.next(node)) {
    out.push_back(node->info());
  }
  return out;
}

std::size_t Loop::cancel_tasks_for_shutdown() noexcept {
  std::size_t cancelled = 0;
  // Cancelling only marks the task and interrupts what it waits on (resumes
  // are queued, never run here), so the list does not change under us.
  for (detail::TaskNode* node = tasks_.front(); node != nullptr; node = tasks_.next(node)) {
    if (node->cancel_for_shutdown()) ++cancelled;
  }
  return cancelled;
}

ShutdownReport Loop::shutdown_until(TimePoint deadline) {
  ShutdownReport report;
  check_owner("shutdown");
  if (is_running()) {
    throw Exception(Errc::invalid_state, "Loop::shutdown called while the loop is running");
  }
  if (is_closed()) return report;
  bool expired = false;
  TimerHandle timer = call_at(deadline, [&expired] { expired = true; });
  while (!tasks_.empty() && !expired) {
    report.cancelled += cancel_tasks_for_shutdown();
    // Nothing ran and nothing can arrive: the tasks left wait on something
    // that will never happen.
    if (run_once() == 0 && !has_pending_work()) break;
  }
  timer.cancel();
  for (const detail::TaskNode* node = tasks_.front(); node != nullptr; node = tasks_.next(node)) {
    report.stragglers.push_back(node->info().name);
  }
  report.finished = report.cancelled >= report.stragglers.size()
                        ? report.cancelled - report.stragglers.size()
                        : 0;
  return report;
}

std::size_t Loop::shutdown_generators(Duration timeout) {
  check_owner("shutdown_generators");
  if (is_running()) {
    throw Exception(Errc::invalid_state, "Loop::shutdown_generators called while the loop is running");
  }
  if (is_closed()) return 0;
  // start_finalizing() spawns a task and never runs the generator itself, so
  // the list is stable while we walk it.
  std::size_t started = 0;
  for (detail::GeneratorNode* node = generators_.front(); node != nullptr;
       node = generators_.next(node)) {
    if (node->start_finalizing()) ++started;
  }
  generators_finalizing_ += started;
  bool expired = false;
  TimerHandle timer = call_later(timeout, [&expired] { expired = true; });
  while (generators_finalizing_ > 0 && !expired) {
    if (run_once() == 0 && !has_pending_work()) break;
  }
  timer.cancel();
  const std::size_t unfinished = generators_finalizing_;
  return started - (unfinished < started ? unfinished : started);
}

void Loop::destroy_pending_tasks(CloseReport& result) {
  while (!tasks_.empty()) {
    detail::TaskNode* node = tasks_.front();
    TaskInfo info = node->info();
    node->destroy_pending();  // leaves the list
    ++result.tasks_destroyed;
    std::string message = "Task was destroyed but it is pending: " + info.name;
    if (!info.awaiting.empty()) message += " (awaiting " + info.awaiting + ")";
    report({ExceptionContext::Kind::task_destroyed, message, nullptr, Duration(0)});
  }
  while (!generators_.empty()) {
    detail::GeneratorNode* node = generators_.front();
    generators_.remove(node);
    node->detach_from_loop();
  }
}

}  // namespace weft
