// weft::detail::IntrusiveList<T, &T::hook>: an intrusive doubly linked list,
// the one list behind the loop's registries (tasks, generators, tracked
// futures, I/O resources), a task's waiters, task groups, the sync
// primitives' wait queues and the C API's lists.
//
//   struct Job {
//     ListHook hook;                       // an element's place in one list
//     ...
//   };
//   IntrusiveList<Job, &Job::hook> jobs;
//   jobs.push_back(&job);                  // O(1), allocates nothing
//   jobs.remove(&job);                     // O(1), unlinks it if linked
//
// Ownership: the list owns nothing. It links objects that live elsewhere (in
// a coroutine frame, a task state, an allocation of their owner); whoever
// destroys an element unlinks it first. An object may sit in several lists at
// once through several hooks, but in at most one list per hook.
//
// Thread: none of its own. A list is touched on whichever thread its owner
// says (the loop's thread for the loop's lists, under a lock for some of the
// C API's); it has no atomics and no locks.
//
// Shape: circular, without a sentinel. The list is its head pointer (plus a
// count, unless ListSize::uncounted), so it fits where a raw pointer did
// (a task's waiter list lives in a union) and may be moved; elements never
// point at the list. A hook is two pointers to the neighbouring elements; an
// element alone in its list is its own neighbour, so a hook is linked exactly
// when its `next` is set. Copying an element gives a new, unlinked hook.
//
// Iteration: front()/next(item) walk from the first element to the last;
// for_each(f) lets f unlink the element it is given (not others). Elements
// linked during a walk at the back are visited; at the front, not.
//
// Debug builds (no NDEBUG) check that a hook is not linked twice and that a
// linked element is not removed from an empty list.
#pragma once

#include <cassert>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace weft::detail {

// Whether a list counts its elements (size()); an uncounted one is a single
// pointer.
enum class ListSize : bool { counted, uncounted };

class ListHook;
template <class T, ListHook T::*kHook, ListSize kSize = ListSize::counted>
class IntrusiveList;

// An element's place in one list; embed one per list the element joins.
class ListHook {
 public:
  ListHook() noexcept = default;
  // A copy is not in any list (the original's place is the original's).
  ListHook(const ListHook&) noexcept {}
  ListHook& operator=(const ListHook&) noexcept { return *this; }

  bool linked() const noexcept { return next_ != nullptr; }

 private:
  template <class T, ListHook T::*kHook, ListSize kSize>
  friend class IntrusiveList;

  void* prev_ = nullptr;  // the elements themselves (T*), not their hooks
  void* next_ = nullptr;
};

template <class T, ListHook T::*kHook, ListSize kSize>
class IntrusiveList {
 public:
  IntrusiveList() noexcept = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  // Takes every element; `other` is left empty.
  IntrusiveList(IntrusiveList&& other) noexcept
      : head_(std::exchange(other.head_, nullptr)), count_(std::exchange(other.count_, Count{})) {}
  IntrusiveList& operator=(IntrusiveList&&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept
    requires(kSize == ListSize::counted)
  {
    return count_;
  }

  // The first and last elements, or nullptr.
  T* front() const noexcept { return head_; }
  T* back() const noexcept { return head_ == nullptr ? nullptr : static_cast<T*>(hook(head_).prev_); }
  // The element after `item` (which is in this list), or nullptr after the last.
  T* next(const T* item) const noexcept {
    void* after = hook(item).next_;
    return after == head_ ? nullptr : static_cast<T*>(after);
  }

  void push_back(T* item) noexcept { link_before_head(item); }
  void push_front(T* item) noexcept {
    link_before_head(item);
    head_ = item;
  }

  // Unlinks `item` if it is linked; if it is, it must be in this list.
  void remove(T* item) noexcept {
    ListHook& h = hook(item);
    if (!h.linked()) return;
    assert(head_ != nullptr && "IntrusiveList::remove: the element is in another list");
    if (h.next_ == item) {
      assert(head_ == item && "IntrusiveList::remove: the element is in another list");
      head_ = nullptr;
    } else {
      T* before = static_cast<T*>(h.prev_);
      T* after = static_cast<T*>(h.next_);
      hook(before).next_ = after;
      hook(after).prev_ = before;
      if (head_ == item) head_ = after;
    }
    h.prev_ = h.next_ = nullptr;
    --count_;
  }

  // Unlinks and returns the first element, or returns nullptr.
  T* pop_front() noexcept {
    T* item = head_;
    if (item != nullptr) remove(item);
    return item;
  }

  // Calls f(T*) for each element, first to last; f may unlink the element it
  // is given.
  template <class F>
  void for_each(F&& f) const {
    for (T* item = front(); item != nullptr;) {
      T* after = next(item);
      f(item);
      item = after;
    }
  }

 private:
  struct NoCount {  // an uncounted list's count: nothing, no bytes
    NoCount& operator++() noexcept { return *this; }
    NoCount& operator--() noexcept { return *this; }
  };
  using Count = std::conditional_t<kSize == ListSize::counted, std::size_t, NoCount>;

  static ListHook& hook(T* item) noexcept { return item->*kHook; }
  static const ListHook& hook(const T* item) noexcept { return item->*kHook; }

  // Links `item` last (just before the head, the list being circular).
  void link_before_head(T* item) noexcept {
    ListHook& h = hook(item);
    assert(!h.linked() && "IntrusiveList: the element's hook is already linked");
    if (head_ == nullptr) {
      h.prev_ = h.next_ = item;
      head_ = item;
    } else {
      T* last = static_cast<T*>(hook(head_).prev_);
      h.prev_ = last;
      h.next_ = head_;
      hook(last).next_ = item;
      hook(head_).prev_ = item;
    }
    ++count_;
  }

  T* head_ = nullptr;
  [[no_unique_address]] Count count_{};
};

}  // namespace weft::detail
