#include "core/timer/timer_queue.h"

#include <algorithm>

namespace weft::detail {

namespace {
constexpr std::size_t kArity = 4;
constexpr std::size_t kCompactMinimum = 1024;
}  // namespace

std::uint32_t TimerQueue::acquire_slot() {
  if (free_head_ != kNoSlot) {
    std::uint32_t index = free_head_;
    free_head_ = slot_at(index).next_free;
    return index;
  }
  if (slot_count_ % kSlotsPerChunk == 0) {
    chunks_.push_back(std::make_unique<Slot[]>(kSlotsPerChunk));
  }
  return slot_count_++;
}

void TimerQueue::release_slot(std::uint32_t index) noexcept {
  Slot& slot = slot_at(index);
  slot.callback.reset();
  // Generation 0 is reserved for "no timer"; skip it on wrap-around.
  if (++slot.generation == 0) slot.generation = 1;
  slot.next_free = free_head_;
  free_head_ = index;
}

bool TimerQueue::cancel(TimerId id) noexcept {
  if (!is_pending(id)) return false;
  release_slot(id.slot);
  --live_;
  ++tombstones_;
  if (tombstones_ > kCompactMinimum && tombstones_ > live_) compact();
  return true;
}

std::size_t TimerQueue::cancel_all() noexcept {
  std::size_t cancelled = 0;
  for (const Entry& entry : heap_) {
    if (slot_at(entry.slot).generation == entry.generation) {
      release_slot(entry.slot);
      ++cancelled;
    }
  }
  heap_.clear();
  live_ = 0;
  tombstones_ = 0;
  return cancelled + nodes_.clear();
}

std::optional<TimePoint> TimerQueue::next_deadline() noexcept {
  std::optional<TimePoint> next;
  while (!heap_.empty()) {
    const Entry& top = heap_.front();
    if (slot_at(top.slot).generation == top.generation) {
      next = TimePoint(Duration(top.deadline_ns));
      break;
    }
    pop_entry();
    --tombstones_;
  }
  if (!nodes_.empty()) {
    const TimePoint node_deadline(Duration(nodes_.top().deadline_ns));
    if (!next || node_deadline < *next) next = node_deadline;
  }
  return next;
}

void TimerQueue::reserve_entry() {
  if (heap_.size() == heap_.capacity()) heap_.reserve(std::max<std::size_t>(16, heap_.capacity() * 2));
}

void TimerQueue::push_entry(const Entry& entry) {
  heap_.push_back(entry);
  std::size_t index = heap_.size() - 1;
  while (index > 0) {
    std::size_t parent = (index - 1) / kArity;
    if (!earlier(entry, heap_[parent])) break;
    heap_[index] = heap_[parent];
    index = parent;
  }
  heap_[index] = entry;
}

void TimerQueue::pop_entry() noexcept {
  Entry last = heap_.back();
  heap_.pop_back();
  if (heap_.empty()) return;
  heap_[0] = last;
  sift_down(0);
}

void TimerQueue::sift_down(std::size_t index) noexcept {
  const std::size_t size = heap_.size();
  Entry moving = heap_[index];
  for (;;) {
    std::size_t first_child = index * kArity + 1;
    if (first_child >= size) break;
    std::size_t best = first_child;
    std::size_t last_child = std::min(first_child + kArity, size);
    for (std::size_t child = first_child + 1; child < last_child; ++child) {
      if (earlier(heap_[child], heap_[best])) best = child;
    }
    if (!earlier(heap_[best], moving)) break;
    heap_[index] = heap_[best];
    index = best;
  }
  heap_[index] = moving;
}

void TimerQueue::compact() noexcept {
  auto dead = [this](const Entry& e) { return slot_at(e.slot).generation != e.generation; };
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(), dead), heap_.end());
  tombstones_ = 0;
  if (heap_.size() < 2) return;
  for (std::size_t i = (heap_.size() - 2) / kArity + 1; i-- > 0;) sift_down(i);
}

}  // namespace weft::detail
