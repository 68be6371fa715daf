// weft::detail::TaskNode / GeneratorNode and their lists: how a Loop knows the
// tasks and async generators that live on it, without depending on the
// coroutine types themselves (core/task, core/generator implement the nodes).
//
// A loop keeps every spawned task that has not finished (for Loop::tasks(),
// shutdown() and close()) and every async generator that was started and has
// not finished (for shutdown_generators() and close()). Links are intrusive:
// a task's node lives in its task state, a generator's in its promise, so
// registering costs two pointer writes.
//
// Thread: the lists are touched only on the loop's thread.
#pragma once

#include <cstddef>

#include "core/loop/loop_types.h"

namespace weft::detail {

struct ListLinks {
  ListLinks* prev = nullptr;
  ListLinks* next = nullptr;
};

// An intrusive doubly linked list of `Node`s (which derive from ListLinks).
template <class Node>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  Node* front() const noexcept { return static_cast<Node*>(head_); }
  static Node* next(const Node* node) noexcept {
    return static_cast<Node*>(static_cast<const ListLinks*>(node)->next);
  }

  void push_front(Node& node) noexcept {
    ListLinks& links = node;
    links.prev = nullptr;
    links.next = head_;
    if (head_ != nullptr) head_->prev = &links;
    head_ = &links;
    ++size_;
  }
  void remove(Node& node) noexcept {
    ListLinks& links = node;
    if (links.prev != nullptr) {
      links.prev->next = links.next;
    } else {
      head_ = links.next;
    }
    if (links.next != nullptr) links.next->prev = links.prev;
    links.prev = links.next = nullptr;
    --size_;
  }

 private:
  ListLinks* head_ = nullptr;
  std::size_t size_ = 0;
};

// A spawned task, as its loop sees it (implemented by detail::TaskState).
class TaskNode : public ListLinks {
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
};

// An async generator that was started and has not finished (implemented in
// core/generator).
class GeneratorNode : public ListLinks {
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
};

}  // namespace weft::detail
