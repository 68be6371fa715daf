// weft::capi::List<T, &T::hook> / ListHook: the C layer's names for the
// core's intrusive list (core/detail/intrusive_list.h has the contract). An
// object sits in a list through a ListHook member; it may sit in several
// lists through several hooks. Linking and unlinking allocate nothing and are
// O(1); remove() of an object that is not linked does nothing; for_each lets
// its function unlink the object it is given.
//
// Not thread-safe: every list in the C layer is touched on one thread (the
// loop's) or under its owner's lock, as each owner says.
#pragma once

#include "core/detail/intrusive_list.h"

namespace weft::capi {

using ListHook = weft::detail::ListHook;

template <class T, ListHook T::*kHook>
using List = weft::detail::IntrusiveList<T, kHook>;

}  // namespace weft::capi
