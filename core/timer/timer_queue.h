// weft::detail::TimerQueue: the loop's timers — a 4-ary min-heap of deadlines
// with lazy deletion, over a slab of slots that hold the callbacks.
//
// - arm: O(log n) worst case, O(1) on average for random deadlines; no
//   allocation once the slab and heap have grown.
// - cancel: O(1). The heap entry stays behind as a tombstone (its generation no
//   longer matches the slot's) and is skipped when it reaches the top; when
//   tombstones outnumber live timers the heap is compacted in O(n).
// - Ordering: by deadline, then by arming order, so timers with equal deadlines
//   fire in the order they were armed.
//
// A TimerId names a slot and the slot's generation at arming; a stale id (fired
// or cancelled timer, reused slot) is recognised and ignored.
//
// Beside callback timers it holds intrusive TimerNodes (core/timer/timer_node.h)
// for awaiters in coroutine frames: same ordering (one sequence counter for
// both), eager removal, and a node's own fire function instead of a callback.
//
// Thread: owned by one Loop and touched only on the loop's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/clock/clock.h"
#include "core/detail/callback.h"
#include "core/timer/timer_node.h"

namespace weft::detail {

struct TimerId {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;  // 0 never names a live timer
};

class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Allocates everything first (the callback's box, heap and slab room): if
  // that throws, nothing was armed.
  template <class F>
  TimerId arm(TimePoint deadline, F&& f) {
    Callback callback(std::forward<F>(f));
    reserve_entry();
    std::uint32_t index = acquire_slot();
    Slot& slot = slot_at(index);
    slot.callback = std::move(callback);
    push_entry(Entry{deadline.time_since_epoch().count(), next_sequence_++, index,
                     slot.generation});
    ++live_;
    return TimerId{index, slot.generation};
  }

  // Arms an intrusive timer node (which must not be armed) for `deadline`.
  void arm_node(TimerNode& node, TimePoint deadline) {
    node.deadline_ns = deadline.time_since_epoch().count();
    node.sequence = next_sequence_++;
    nodes_.push(node);
  }
  // Disarms a node; returns false if it was not armed (fired or never armed).
  bool cancel_node(TimerNode& node) noexcept {
    if (!node.armed()) return false;
    nodes_.remove(node);
    return true;
  }

  // Cancels a pending timer: its callback is destroyed without running.
  // Returns false if the id is stale (already fired or cancelled).
  bool cancel(TimerId id) noexcept;

  bool is_pending(TimerId id) const noexcept {
    return id.generation != 0 && id.slot < slot_count_ &&
           slot_at(id.slot).generation == id.generation;
  }

  // The earliest pending deadline, if any (drops tombstones at the top).
  std::optional<TimePoint> next_deadline() noexcept;

  // Removes every timer whose deadline is <= now, in firing order, handing each
  // callback to sink(Callback&&) and calling each node's fire(). Returns how
  // many.
  template <class Sink>
  std::size_t pop_expired(TimePoint now, Sink&& sink) {
    const auto now_ns = now.time_since_epoch().count();
    std::size_t fired = 0;
    for (;;) {
      const bool entry_due = !heap_.empty() && heap_.front().deadline_ns <= now_ns;
      const bool node_due = !nodes_.empty() && nodes_.top().deadline_ns <= now_ns;
      if (!entry_due && !node_due) break;
      if (node_due && (!entry_due || node_first(nodes_.top(), heap_.front()))) {
        TimerNode& node = nodes_.top();
        nodes_.remove(node);
        ++fired;
        node.fire(node);
        continue;
      }
      Entry top = heap_.front();
      pop_entry();
      Slot& slot = slot_at(top.slot);
      if (slot.generation != top.generation) {
        --tombstones_;
        continue;
      }
      Callback callback = std::move(slot.callback);
      release_slot(top.slot);
      --live_;
      ++fired;
      sink(std::move(callback));
    }
    return fired;
  }

  // Cancels every pending timer (nodes are disarmed unfired); returns how many
  // there were.
  std::size_t cancel_all() noexcept;

  std::size_t size() const noexcept { return live_ + nodes_.size(); }
  // Pending callback timers (not nodes).
  std::size_t callback_count() const noexcept { return live_; }
  bool empty() const noexcept { return live_ == 0 && nodes_.empty(); }

 private:
  struct Entry {
    std::int64_t deadline_ns;
    std::uint64_t sequence;
    std::uint32_t slot;
    std::uint32_t generation;
  };

  struct Slot {
    Callback callback;
    std::uint32_t generation = 1;
    std::uint32_t next_free = 0;
  };

  static constexpr std::uint32_t kSlotsPerChunk = 1024;
  static constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;

  static bool earlier(const Entry& a, const Entry& b) noexcept {
    return a.deadline_ns < b.deadline_ns ||
           (a.deadline_ns == b.deadline_ns && a.sequence < b.sequence);
  }
  static bool node_first(const TimerNode& n, const Entry& e) noexcept {
    return n.deadline_ns < e.deadline_ns ||
           (n.deadline_ns == e.deadline_ns && n.sequence < e.sequence);
  }

  Slot& slot_at(std::uint32_t i) noexcept { return chunks_[i / kSlotsPerChunk][i % kSlotsPerChunk]; }
  const Slot& slot_at(std::uint32_t i) const noexcept {
    return chunks_[i / kSlotsPerChunk][i % kSlotsPerChunk];
  }

  std::uint32_t acquire_slot();
  void release_slot(std::uint32_t index) noexcept;
  void reserve_entry();  // room for one more heap entry
  void push_entry(const Entry& entry);  // after reserve_entry: no allocation
  void pop_entry() noexcept;
  void sift_down(std::size_t index) noexcept;
  void compact() noexcept;

  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::uint32_t slot_count_ = 0;
  std::uint32_t free_head_ = kNoSlot;
  std::vector<Entry> heap_;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
  std::uint64_t next_sequence_ = 0;
  TimerNodeHeap nodes_;
};

}  // namespace weft::detail
