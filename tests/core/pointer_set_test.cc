// detail::PointerSet, the loop's set of pending futures: inserts into
// reserved room (which allocates nothing), erases that move entries back
// over the hole, growth that keeps every pointer, draining with any(), and a
// refused allocation while reserving, which leaves the set as it was.
#include <catch2/catch.hpp>

#include <cstdint>
#include <new>
#include <set>
#include <vector>

#include "core/detail/pointer_set.h"
#include "tests/core/refusing_new.h"

namespace {

using weft::detail::PointerSet;

// Pointers spaced like pool blocks (48 bytes apart), and some far apart.
std::vector<const void*> pointers(std::size_t n) {
  static std::vector<unsigned char> arena(48 * 20000);
  std::vector<const void*> out;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = (i % 3 == 0) ? (i * 48) % arena.size() : (i * 7919 * 8) % arena.size();
    out.push_back(arena.data() + at);
  }
  // Distinct only.
  std::set<const void*> seen;
  std::vector<const void*> distinct;
  for (const void* p : out) {
    if (seen.insert(p).second) distinct.push_back(p);
  }
  return distinct;
}

void insert(PointerSet& set, const void* p) {
  set.reserve_one();
  set.insert_reserved(p);
}

}  // namespace

TEST_CASE("a pointer set holds what was inserted and nothing else, across growth and erases",
          "[pointer_set]") {
  PointerSet set;
  REQUIRE(set.empty());
  REQUIRE(set.any() == nullptr);
  REQUIRE_FALSE(set.erase(&set));
  const std::vector<const void*> all = pointers(3000);
  std::set<const void*> model;
  for (std::size_t i = 0; i < all.size(); ++i) {
    insert(set, all[i]);
    model.insert(all[i]);
    // Erase every third one inserted so far, now and then.
    if (i % 5 == 4) {
      const void* gone = all[i - 2];
      REQUIRE(set.erase(gone) == (model.erase(gone) == 1));
    }
  }
  REQUIRE(set.size() == model.size());
  REQUIRE(set.reserved() == 0);
  for (const void* p : all) REQUIRE(set.contains(p) == (model.count(p) == 1));
  // At most three quarters taken.
  REQUIRE(4 * set.size() <= 3 * set.capacity());
  // Erase in another order: every lookup still finds what is left.
  for (std::size_t i = 0; i < all.size(); i += 2) {
    REQUIRE(set.erase(all[i]) == (model.erase(all[i]) == 1));
  }
  for (const void* p : all) REQUIRE(set.contains(p) == (model.count(p) == 1));
  REQUIRE(set.size() == model.size());
}

TEST_CASE("draining a pointer set with any() visits every pointer once", "[pointer_set]") {
  PointerSet set;
  const std::vector<const void*> all = pointers(1000);
  for (const void* p : all) insert(set, p);
  std::set<const void*> drained;
  while (const void* p = set.any()) {
    REQUIRE(drained.insert(p).second);
    REQUIRE(set.erase(p));
  }
  REQUIRE(drained.size() == all.size());
  REQUIRE(set.empty());
}

TEST_CASE("inserting into reserved room allocates nothing; reserving past the room grows the table",
          "[pointer_set]") {
  PointerSet set;
  const std::vector<const void*> all = pointers(100);
  for (int i = 0; i < 6; ++i) set.reserve_one();  // 8 slots, three quarters
  REQUIRE(set.capacity() == 8);
  const long before = weft_test::allocations_on_this_thread();
  for (int i = 0; i < 6; ++i) set.insert_reserved(all[i]);
  REQUIRE(weft_test::allocations_on_this_thread() == before);
  REQUIRE(set.size() == 6);
  // An erase gives its room back: one more fits without growing.
  REQUIRE(set.erase(all[0]));
  set.reserve_one();
  REQUIRE(set.capacity() == 8);
  set.unreserve_one();
  REQUIRE(set.reserved() == 0);
  // A reservation past three quarters grows it.
  set.reserve_one();
  set.reserve_one();
  REQUIRE(set.capacity() == 16);
  REQUIRE(weft_test::allocations_on_this_thread() == before + 1);
  set.insert_reserved(all[6]);
  set.insert_reserved(all[7]);
  for (int i = 1; i < 8; ++i) REQUIRE(set.contains(all[i]));
}

TEST_CASE("a refused allocation while reserving leaves the set as it was", "[pointer_set]") {
  PointerSet set;
  const std::vector<const void*> all = pointers(200);
  std::size_t refused = 0;
  std::size_t held = 0;
  for (const void* p : all) {
    const std::size_t capacity = set.capacity();
    bool reserved = false;
    {
      weft_test::RefuseAllocation refuse(0);
      try {
        set.reserve_one();
        reserved = true;
      } catch (const std::bad_alloc&) {
        ++refused;
      }
    }
    if (!reserved) {
      // Nothing promised, nothing lost: the same table, the same pointers.
      REQUIRE(set.capacity() == capacity);
      REQUIRE(set.reserved() == 0);
      REQUIRE(set.size() == held);
      set.reserve_one();  // allowed now
    }
    set.insert_reserved(p);
    ++held;
  }
  // The first table and each doubling were refused once.
  std::size_t growths = 0;
  for (std::size_t n = 1, slots = 0; n <= all.size(); ++n) {
    if (slots == 0 || 4 * n > 3 * slots) {
      slots = slots == 0 ? 8 : 2 * slots;
      ++growths;
    }
  }
  REQUIRE(growths >= 6);
  REQUIRE(refused == growths);
  REQUIRE(set.size() == all.size());
  for (const void* p : all) REQUIRE(set.contains(p));
}
