// weft::detail::TimerNode / TimerNodeHeap: intrusive timers, for awaiters that
// live in a coroutine frame (sleep, deadlines).
//
// A TimerNode is embedded in its owner (no allocation, no callback storage);
// the heap holds pointers to nodes and keeps each node's index up to date, so
// cancel is an eager O(log n) removal: nothing in the heap ever points at a
// node that was cancelled, and a node may be destroyed as soon as it is not
// armed. This is what keeps a suspended task small (see docs/performance.md, W7): a
// callback timer costs a 72-byte slot plus a heap entry, a node costs the
// 32 bytes inside the frame plus one pointer.
//
// Ordering is the TimerQueue's: deadline, then a sequence number the owning
// TimerQueue hands out, shared with its callback timers.
//
// Thread: owned by one Loop's TimerQueue and touched only on the loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weft::detail {

struct TimerNode {
  static constexpr std::uint32_t kNotArmed = 0xFFFFFFFFu;
  using FireFn = void (*)(TimerNode& node);

  explicit TimerNode(FireFn on_fire = nullptr) noexcept : fire(on_fire) {}
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;

  bool armed() const noexcept { return index != kNotArmed; }

  // Called (on the loop thread, during the loop's timer pass) once the
  // deadline has passed; the node is no longer armed when it runs.
  FireFn fire;
  std::int64_t deadline_ns = 0;
  std::uint64_t sequence = 0;
  std::uint32_t index = kNotArmed;  // position in the heap while armed
};

class TimerNodeHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  // The earliest node; the heap must not be empty.
  TimerNode& top() const noexcept { return *heap_.front(); }

  void push(TimerNode& node);
  // Removes an armed node; leaves it not armed.
  void remove(TimerNode& node) noexcept;
  // Removes every node (each left not armed, none fired); returns how many.
  std::size_t clear() noexcept;

  static bool earlier(const TimerNode& a, const TimerNode& b) noexcept {
    return a.deadline_ns < b.deadline_ns ||
           (a.deadline_ns == b.deadline_ns && a.sequence < b.sequence);
  }

 private:
  void place(std::size_t index, TimerNode* node) noexcept {
    heap_[index] = node;
    node->index = static_cast<std::uint32_t>(index);
  }
  void sift_up(std::size_t index, TimerNode* node) noexcept;
  void sift_down(std::size_t index, TimerNode* node) noexcept;

  std::vector<TimerNode*> heap_;
};

}  // namespace weft::detail
