#include "core/timer/timer_node.h"

#include <algorithm>

namespace weft::detail {

namespace {
constexpr std::size_t kArity = 4;
}  // namespace

void TimerNodeHeap::push(TimerNode& node) {
  heap_.push_back(&node);
  sift_up(heap_.size() - 1, &node);
}

void TimerNodeHeap::remove(TimerNode& node) noexcept {
  const std::size_t index = node.index;
  node.index = TimerNode::kNotArmed;
  TimerNode* last = heap_.back();
  heap_.pop_back();
  if (last == &node) return;
  // The last node takes the hole and moves whichever way restores the order.
  if (index > 0 && earlier(*last, *heap_[(index - 1) / kArity])) {
    sift_up(index, last);
  } else {
    sift_down(index, last);
  }
}

std::size_t TimerNodeHeap::clear() noexcept {
  for (TimerNode* node : heap_) node->index = TimerNode::kNotArmed;
  const std::size_t n = heap_.size();
  heap_.clear();
  return n;
}

void TimerNodeHeap::sift_up(std::size_t index, TimerNode* node) noexcept {
  while (index > 0) {
    const std::size_t parent = (index - 1) / kArity;
    if (!earlier(*node, *heap_[parent])) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, node);
}

void TimerNodeHeap::sift_down(std::size_t index, TimerNode* node) noexcept {
  const std::size_t size = heap_.size();
  for (;;) {
    const std::size_t first_child = index * kArity + 1;
    if (first_child >= size) break;
    std::size_t best = first_child;
    const std::size_t last_child = std::min(first_child + kArity, size);
    for (std::size_t child = first_child + 1; child < last_child; ++child) {
      if (earlier(*heap_[child], *heap_[best])) best = child;
    }
    if (!earlier(*heap_[best], *node)) break;
    place(index, heap_[best]);
    index = best;
  }
  place(index, node);
}

}  // namespace weft::detail
