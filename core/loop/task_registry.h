// weft::detail::TaskNode / GeneratorNode: how a Loop knows the
// tasks and async generators that live on it, without depending on the
// coroutine types themselves (core/task, core/generator implement the nodes).
//
// A loop keeps every spawned task that has not finished (for Loop::tasks(),
// shutdown() and close()) and every async generator that was started and has
// not finished (for shutdown_generators() and close()). Links are intrusive:
// a task's node lives in its task state, a generator's in its promise, so
// registering allocates nothing (core/detail/intrusive_list.h).
//
// Thread: the lists are touched only on the loop's thread.
#pragma once

#include "core/detail/intrusive_list.h"
#include "core/detail/queued_object.h"
#include "core/loop/loop_types.h"

namespace weft {
class Loop;
}

namespace weft::detail {

// A spawned task, as its loop sees it (implemented by detail::TaskState).
// A QueuedObject too: spawn queues the task's first step as the task's own
// address (an 8-byte ready-queue record).
class TaskNode : public QueuedObject {
 public:
  // Asks the task to cancel, once: returns false if this node was already
  // asked by shutdown or close. Loop thread.
  virtual bool cancel_for_shutdown() noexcept = 0;
  // Destroys the coroutine of a task that cannot finish any more (the loop is
  // closing): its locals are destroyed, the task ends cancelled, and the node
  // leaves the loop's list. Loop thread.
  virtual void destroy_pending() noexcept = 0;
  virtual TaskInfo info() const = 0;

 protected:
  ~TaskNode() = default;

 private:
  friend class weft::Loop;
  ListHook loop_hook_;  // in the loop's task list
};
// QueuedObject shares the vtable pointer: a task pays nothing for its 8-byte
// first-step record.
static_assert(sizeof(TaskNode) == sizeof(void*) + sizeof(ListHook),
              "a task node is its vtable pointer and its links");

// An async generator that was started and has not finished (implemented in
// core/generator).
class GeneratorNode {
 public:
  // If the generator is suspended at a co_yield, starts finalising it (a task
  // that resumes it with GeneratorExit, like asyncio's aclose()) and returns
  // true; the node leaves the list when the generator has finished.
  virtual bool start_finalizing() = 0;
  // The loop is closing: forget it (the generator's frame is destroyed by its
  // owner later, without touching the loop).
  virtual void detach_from_loop() noexcept = 0;

 protected:
  ~GeneratorNode() = default;

 private:
  friend class weft::Loop;
  ListHook loop_hook_;  // in the loop's generator list
};

}  // namespace weft::detail
