#include "core/detail/intrusive_list.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <list>
#include <random>
#include <vector>

using weft::detail::IntrusiveList;
using weft::detail::ListHook;
using weft::detail::ListSize;

namespace {

struct Item {
  explicit Item(int v) : value(v) {}
  int value;
  ListHook hook;
  ListHook other_hook;
};

using Items = IntrusiveList<Item, &Item::hook>;

template <class List>
std::vector<int> values(const List& list) {
  std::vector<int> out;
  for (const Item* item = list.front(); item != nullptr; item = list.next(item)) out.push_back(item->value);
  return out;
}

}  // namespace

TEST_CASE("an empty list has no front, no back and nothing to pop", "[intrusive_list]") {
  Items list;
  REQUIRE(list.empty());
  REQUIRE(list.size() == 0);
  REQUIRE(list.front() == nullptr);
  REQUIRE(list.back() == nullptr);
  REQUIRE(list.pop_front() == nullptr);
  int visits = 0;
  list.for_each([&](Item*) { ++visits; });
  REQUIRE(visits == 0);
}

TEST_CASE("push_back keeps arrival order and push_front puts an element first", "[intrusive_list]") {
  Item a(1), b(2), c(3), d(4);
  Items list;
  list.push_back(&b);
  list.push_back(&c);
  list.push_front(&a);
  list.push_back(&d);
  REQUIRE(values(list) == std::vector<int>{1, 2, 3, 4});
  REQUIRE(list.size() == 4);
  REQUIRE(list.front() == &a);
  REQUIRE(list.back() == &d);
  while (!list.empty()) list.pop_front();
}

TEST_CASE("a hook is linked exactly while its element is in a list", "[intrusive_list]") {
  Item a(1), b(2);
  Items list;
  REQUIRE_FALSE(a.hook.linked());
  list.push_back(&a);
  REQUIRE(a.hook.linked());  // alone in the list: its own neighbour
  list.push_back(&b);
  REQUIRE(a.hook.linked());
  REQUIRE(b.hook.linked());
  list.remove(&a);
  REQUIRE_FALSE(a.hook.linked());
  REQUIRE(list.pop_front() == &b);
  REQUIRE_FALSE(b.hook.linked());
  REQUIRE(list.empty());
}

TEST_CASE("remove unlinks the first, a middle, the last or the only element", "[intrusive_list]") {
  std::vector<Item> items;
  for (int i = 0; i < 5; ++i) items.emplace_back(i);
  Items list;
  for (Item& item : items) list.push_back(&item);
  list.remove(&items[2]);
  REQUIRE(values(list) == std::vector<int>{0, 1, 3, 4});
  list.remove(&items[0]);
  REQUIRE(values(list) == std::vector<int>{1, 3, 4});
  list.remove(&items[4]);
  REQUIRE(values(list) == std::vector<int>{1, 3});
  REQUIRE(list.back() == &items[3]);
  list.remove(&items[1]);
  list.remove(&items[3]);
  REQUIRE(list.empty());
  REQUIRE(list.size() == 0);
}

TEST_CASE("removing an element that is not linked does nothing", "[intrusive_list]") {
  Item a(1), b(2);
  Items list;
  list.push_back(&a);
  list.remove(&b);
  list.remove(&a);
  list.remove(&a);
  REQUIRE(list.empty());
}

TEST_CASE("an element sits in two lists through two hooks", "[intrusive_list]") {
  Item a(1), b(2);
  Items first;
  IntrusiveList<Item, &Item::other_hook> second;
  first.push_back(&a);
  first.push_back(&b);
  second.push_back(&b);
  second.push_back(&a);
  first.remove(&a);
  REQUIRE(values(first) == std::vector<int>{2});
  REQUIRE(values(second) == std::vector<int>{2, 1});
  REQUIRE(a.other_hook.linked());
  second.remove(&a);
  second.remove(&b);
  first.remove(&b);
}

TEST_CASE("for_each lets the callback unlink the element it is given", "[intrusive_list]") {
  std::vector<Item> items;
  for (int i = 0; i < 6; ++i) items.emplace_back(i);
  Items list;
  for (Item& item : items) list.push_back(&item);
  std::vector<int> seen;
  list.for_each([&](Item* item) {
    seen.push_back(item->value);
    if (item->value % 2 == 0) list.remove(item);
  });
  REQUIRE(seen == std::vector<int>{0, 1, 2, 3, 4, 5});
  REQUIRE(values(list) == std::vector<int>{1, 3, 5});
  list.for_each([&](Item* item) { list.remove(item); });
  REQUIRE(list.empty());
}

TEST_CASE("for_each visits elements linked at the back during the walk", "[intrusive_list]") {
  Item a(1), b(2), late(3), early(0);
  Items list;
  list.push_back(&a);
  list.push_back(&b);
  std::vector<int> seen;
  list.for_each([&](Item* item) {
    seen.push_back(item->value);
    if (item == &a) {
      list.push_back(&late);
      list.push_front(&early);
    }
  });
  REQUIRE(seen == std::vector<int>{1, 2, 3});
  REQUIRE(values(list) == std::vector<int>{0, 1, 2, 3});
  while (!list.empty()) list.pop_front();
}

TEST_CASE("moving a list takes its elements and leaves it empty", "[intrusive_list]") {
  Item a(1), b(2);
  Items list;
  list.push_back(&a);
  list.push_back(&b);
  Items taken(std::move(list));
  REQUIRE(list.empty());
  REQUIRE(list.size() == 0);
  REQUIRE(taken.size() == 2);
  REQUIRE(values(taken) == std::vector<int>{1, 2});
  list.push_back(taken.pop_front());
  REQUIRE(values(list) == std::vector<int>{1});
  REQUIRE(values(taken) == std::vector<int>{2});
  list.remove(&a);
  taken.remove(&b);
}

TEST_CASE("an uncounted list is one pointer and still knows when it is empty", "[intrusive_list]") {
  using Uncounted = IntrusiveList<Item, &Item::hook, ListSize::uncounted>;
  STATIC_REQUIRE(sizeof(Uncounted) == sizeof(void*));
  STATIC_REQUIRE(sizeof(ListHook) == 2 * sizeof(void*));
  Item a(1), b(2);
  Uncounted list;
  list.push_back(&a);
  list.push_back(&b);
  REQUIRE(values(list) == std::vector<int>{1, 2});
  list.remove(&a);
  list.remove(&b);
  REQUIRE(list.empty());
}

TEST_CASE("copying an element gives the copy an unlinked hook", "[intrusive_list]") {
  Item a(1);
  Items list;
  list.push_back(&a);
  Item copy = a;
  REQUIRE_FALSE(copy.hook.linked());
  Item assigned(2);
  assigned = a;
  REQUIRE_FALSE(assigned.hook.linked());
  REQUIRE(a.hook.linked());
  list.remove(&a);
}

namespace {

struct Node {
  virtual ~Node() = default;
  virtual int id() const = 0;
  ListHook hook;
};
struct Leaf final : Node {
  explicit Leaf(int n) : n(n) {}
  int id() const override { return n; }
  int n;
};

}  // namespace

TEST_CASE("a list of a polymorphic base holds derived elements", "[intrusive_list]") {
  Leaf x(7), y(8);
  IntrusiveList<Node, &Node::hook> list;
  list.push_front(&x);
  list.push_front(&y);
  REQUIRE(list.front()->id() == 8);
  REQUIRE(list.next(list.front())->id() == 7);
  list.remove(&x);
  list.remove(&y);
}

TEST_CASE("random pushes and removals agree with std::list", "[intrusive_list]") {
  std::vector<Item> items;
  for (int i = 0; i < 200; ++i) items.emplace_back(i);
  Items list;
  std::list<int> model;
  std::mt19937 rng(12345);
  for (int step = 0; step < 20000; ++step) {
    Item& item = items[rng() % items.size()];
    const std::uint32_t op = rng() % 3;
    if (item.hook.linked()) {
      list.remove(&item);
      model.remove(item.value);
    } else if (op == 0) {
      list.push_front(&item);
      model.push_front(item.value);
    } else {
      list.push_back(&item);
      model.push_back(item.value);
    }
    REQUIRE(list.size() == model.size());
  }
  REQUIRE(values(list) == std::vector<int>(model.begin(), model.end()));
  while (Item* item = list.pop_front()) REQUIRE_FALSE(item->hook.linked());
}
