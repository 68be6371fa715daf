// weft::capi::List<T, Hook>: an intrusive doubly-linked list. An object sits
// in a list through a ListHook member; it may sit in several lists through
// several hooks. Linking and unlinking allocate nothing and are O(1).
//
// Not thread-safe: every list in the C layer is touched on one thread (the
// loop's) or under its owner's lock, as each owner says.
#pragma once

#include <cstddef>

namespace weft::capi {

struct ListHook {
  ListHook* prev = nullptr;
  ListHook* next = nullptr;
  bool linked() const noexcept { return prev != nullptr; }
};

template <class T, ListHook T::*kHook>
class List {
 public:
  List() noexcept { head_.prev = head_.next = &head_; }
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  bool empty() const noexcept { return head_.next == &head_; }
  std::size_t size() const noexcept { return size_; }

  void push_back(T* item) noexcept {
    ListHook& hook = item->*kHook;
    hook.prev = head_.prev;
    hook.next = &head_;
    head_.prev->next = &hook;
    head_.prev = &hook;
    ++size_;
  }

  // Unlinks `item` if it is linked (in this list).
  void remove(T* item) noexcept {
    ListHook& hook = item->*kHook;
    if (!hook.linked()) return;
    hook.prev->next = hook.next;
    hook.next->prev = hook.prev;
    hook.prev = hook.next = nullptr;
    --size_;
  }

  T* front() const noexcept { return empty() ? nullptr : from_hook(head_.next); }

  // Calls f(T*) for each item; f may unlink the item it is given.
  template <class F>
  void for_each(F&& f) const {
    for (ListHook* h = head_.next; h != &head_;) {
      ListHook* next = h->next;
      f(from_hook(h));
      h = next;
    }
  }

 private:
  static T* from_hook(ListHook* hook) noexcept {
    // The offset of the hook member inside T, computed without an object.
    const std::size_t offset = reinterpret_cast<std::size_t>(&(static_cast<T*>(nullptr)->*kHook));
    return reinterpret_cast<T*>(reinterpret_cast<char*>(hook) - offset);
  }

  ListHook head_;
  std::size_t size_ = 0;
};

}  // namespace weft::capi
