#include "core/detail/pointer_set.h"

namespace weft::detail {

void PointerSet::grow() {
  const std::size_t slots = slots_ == nullptr ? 8 : 2 * (mask_ + 1);
  // Value-initialized: every slot empty. May throw; nothing changed then.
  std::unique_ptr<const void*[]> table(new const void*[slots]());
  std::unique_ptr<const void*[]> old = std::exchange(slots_, std::move(table));
  const std::size_t old_slots = old != nullptr ? mask_ + 1 : 0;
  mask_ = slots - 1;
  room_ += slots / 4 * 3 - limit_;
  limit_ = slots / 4 * 3;
  shift_ = 64;
  for (std::size_t n = slots; n > 1; n >>= 1) --shift_;
  cursor_ = 0;
  for (std::size_t j = 0; j < old_slots; ++j) {
    if (old[j] == nullptr) continue;
    std::size_t i = home(old[j]);
    while (slots_[i] != nullptr) i = (i + 1) & mask_;
    slots_[i] = old[j];
  }
}

}  // namespace weft::detail
