// weft::detail::QueuedObject / TabledObject: objects the loop's ready queue
// holds by their address alone (an 8-byte record, see
// CallbackQueue::emplace_object), instead of a callable copied into a record
// of its own (16 bytes at least).
//
// Used where the object already exists and outlives its time in the queue:
// a future's shared state whose continuation is due, and a spawned task
// waiting for its first step. Two kinds, so that neither pays a pointer for
// its record:
// - QueuedObject: the object derives from this class as its first
//   polymorphic base; the two functions live in the vtable it already has
//   (a task).
// - TabledObject: no vtable; the object's first member points to a table of
//   the two functions (and of whatever else its owner puts after them), and
//   the object may point it at another table as its state changes. A
//   future's shared state does: its table is its continuation's.
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

class TabledObject {
 public:
  // The first entries of the object's table; an owner's table derives from
  // this and adds its own.
  struct Ops {
    void (*run_queued)(TabledObject* self);            // as QueuedObject's
    void (*drop_queued)(TabledObject* self) noexcept;  // as QueuedObject's
  };

  void run_queued() { ops_->run_queued(this); }
  void drop_queued() noexcept { ops_->drop_queued(this); }

 protected:
  explicit TabledObject(const Ops* ops) noexcept : ops_(ops) {}
  TabledObject(const TabledObject&) = default;
  TabledObject& operator=(const TabledObject&) = default;
  ~TabledObject() = default;

  const Ops* ops_;
};

}  // namespace weft::detail
