// weft::detail::QueuedObject: an object the loop's ready queue holds by its
// address alone (an 8-byte record, see CallbackQueue::emplace_object), instead
// of a callable copied into a record of its own (16 bytes at least).
//
// Used where the object already exists and outlives its time in the queue:
// a future's shared state whose continuation is due (run_queued runs it), and
// a spawned task waiting for its first step. The object derives from this
// class as its first polymorphic base, so the queue's record costs the object
// nothing: the two functions live in the vtable it already has.
//
// Thread: the loop thread that owns the queue calls both. Ownership: the
// queue does not own the object; the record only promises one call, either
// run_queued() or drop_queued().
#pragma once

namespace weft::detail {

class QueuedObject {
 public:
  // The record's turn came. May throw (the loop reports it, as for any
  // callback); the record is gone either way.
  virtual void run_queued() = 0;
  // The record is destroyed unrun (the queue is cleared).
  virtual void drop_queued() noexcept = 0;

 protected:
  QueuedObject() = default;
  QueuedObject(const QueuedObject&) = default;
  QueuedObject& operator=(const QueuedObject&) = default;
  ~QueuedObject() = default;
};

}  // namespace weft::detail
