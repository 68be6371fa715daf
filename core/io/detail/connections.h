// The accept loop behind TcpListener::connections() and
// PipeListener::connections(): an async generator of accepted streams.
//
// The generator holds its own reference to the listener's object, so it may
// outlive the TcpListener it came from (which then closes the object, and the
// generator ends). Each next() starts one accept and yields its stream;
// nothing is accepted while the generator is suspended at its co_yield, so
// stopping the iteration (destroying the generator, or aclose()) leaves the
// remaining connections in the kernel's backlog for a later accept(). The
// await is a FutureAwaiter: a cancelled consumer cancels the pending accept,
// and a connection arriving meanwhile is kept for the next accept (see
// listener_impl.h), never lost.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/future/future.h"
#include "core/generator/generator.h"
#include "core/io/detail/io_object.h"
#include "core/io/detail/listener_impl.h"
#include "core/io/detail/stream_impl.h"
#include "core/task/task.h"

namespace weft::detail {

// Starts one accept on `listener` (not a coroutine: keeps the structured
// binding out of the coroutine frame, see docs/cpp-guide.md "Known compiler bugs").
template <class S>
Future<S> start_accept(ListenerImpl& listener) {
  auto [promise, future] = detail::make_hooked_promise<S>();
  listener.accept(std::make_unique<StreamResultOpFor<S>>(std::move(promise)));
  return std::move(future);
}

// Yields accepted streams until the listener closes (Errc::closed ends the
// iteration); any other error, and Cancelled, is thrown from next().
template <class S>
Generator<S> accept_connections(IoRef<ListenerImpl> listener) {
  if (!listener) co_return;  // an empty listener: accept() fails with closed
  for (;;) {
    std::optional<S> stream;
    bool closed = false;
    try {
      Future<S> next = start_accept<S>(*listener);
      stream.emplace(co_await std::move(next));
    } catch (const Exception& e) {
      if (e.code() != Errc::closed) throw;
      closed = true;
    }
    if (closed) co_return;
    co_yield std::move(*stream);
  }
}

}  // namespace weft::detail
