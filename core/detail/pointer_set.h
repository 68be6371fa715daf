// weft::detail::PointerSet: a set of non-null pointers in an open-addressed
// table (linear probing, deletion by backward shift), whose inserts cannot
// fail: the room for each is reserved beforehand (reserve_one), where an
// allocation may be refused, and used by insert_reserved, which allocates
// nothing. The loop keeps its pending C++ futures in one (Loop::track_future),
// so that a future's shared state carries no links of its own.
//
// A front slot beside the table holds a pointer inserted while it was
// empty: a pointer erased soon after it was inserted (a future resolved right
// after its continuation was attached) is neither hashed nor probed for.
//
// Ownership: the set owns its table, never the objects pointed at.
//
// Thread: none of its own; the loop's set is touched on the loop's thread
// only. No atomics, no locks.
//
// Size: the table is a power of two of slots (8 at the least, made on the
// first reservation), at most three quarters of which are taken or promised
// (size() + reserved()); it grows by doubling and never shrinks, so it keeps
// the room of the most pointers it held (and promised) at once, 8 bytes a
// slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace weft::detail {

class PointerSet {
 public:
  PointerSet() = default;
  PointerSet(const PointerSet&) = delete;
  PointerSet& operator=(const PointerSet&) = delete;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // Inserts promised by reserve_one and not yet made (or given back).
  std::size_t reserved() const noexcept { return limit_ - size_ - room_; }
  std::size_t capacity() const noexcept { return mask_ + (slots_ != nullptr ? 1 : 0); }

  // Promises room for one more pointer, kept until insert_reserved uses it
  // or unreserve_one gives it back. Throws std::bad_alloc (growing the
  // table) with nothing changed.
  void reserve_one() {
    if (room_ == 0) grow();
    --room_;
  }
  // reserve_one without growing: false (nothing promised) if that would grow.
  bool try_reserve_one() noexcept {
    if (room_ == 0) return false;
    --room_;
    return true;
  }
  void unreserve_one() noexcept { ++room_; }

  // Inserts `p` (not null, not in the set) into reserved room.
  void insert_reserved(const void* p) noexcept {
    ++size_;
    if (front_ == nullptr) {
      front_ = p;
      return;
    }
    std::size_t i = home(p);
    while (slots_[i] != nullptr) i = (i + 1) & mask_;
    slots_[i] = p;
  }

  // Removes `p`; false if it was not in the set. Its room is given back.
  bool erase(const void* p) noexcept {
    if (p == front_) {
      front_ = nullptr;
      --size_;
      ++room_;
      return true;
    }
    if (size_ == (front_ != nullptr ? 1 : 0)) return false;
    std::size_t i = home(p);
    while (slots_[i] != p) {
      if (slots_[i] == nullptr) return false;
      i = (i + 1) & mask_;
    }
    remove_at(i);
    return true;
  }

  bool contains(const void* p) const noexcept {
    if (p == front_ && p != nullptr) return true;
    if (size_ == (front_ != nullptr ? 1 : 0)) return false;
    for (std::size_t i = home(p); slots_[i] != nullptr; i = (i + 1) & mask_) {
      if (slots_[i] == p) return true;
    }
    return false;
  }

  // Some pointer in the set (null if none), for draining it: repeated calls
  // with erases between them visit the table once around, resuming where
  // the last one found its pointer.
  const void* any() noexcept {
    if (front_ != nullptr) return front_;
    if (size_ == 0) return nullptr;
    while (slots_[cursor_ & mask_] == nullptr) ++cursor_;
    cursor_ &= mask_;
    return slots_[cursor_];
  }

 private:
  // Fibonacci hashing of the address without its alignment bits: the top
  // bits of the product, as many as the table has index bits.
  std::size_t home(const void* p) const noexcept {
    const std::uint64_t key = reinterpret_cast<std::uintptr_t>(p) >> 3;
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  // Empties slot `hole` of the table, moving back the entries after it that
  // probed past it.
  void remove_at(std::size_t hole) noexcept {
    std::size_t i = hole;
    for (;;) {
      i = (i + 1) & mask_;
      if (slots_[i] == nullptr) break;
      const std::size_t want = home(slots_[i]);
      // Move it back unless its home lies cyclically in (hole, i].
      if (((i - want) & mask_) >= ((i - hole) & mask_)) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = nullptr;
    --size_;
    ++room_;
  }
  void grow();

  const void* front_ = nullptr;  // see above; counted in size_
  std::unique_ptr<const void*[]> slots_;
  std::size_t mask_ = 0;  // slots - 1
  unsigned shift_ = 64;   // 64 - log2(slots)
  std::size_t size_ = 0;
  std::size_t limit_ = 0;  // three quarters of the slots: size_ + reserved() at most
  std::size_t room_ = 0;   // limit_ - size_ - reserved(): reservations left before growing
  std::size_t cursor_ = 0;  // any()'s last find
};

}  // namespace weft::detail
