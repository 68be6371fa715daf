// weft::Queue<T>: a FIFO channel between tasks, bounded for backpressure
// (asyncio's Queue, with shutdown-style closing).
//
//   weft::Queue<Job> jobs(100);                 // at most 100 waiting
//   co_await jobs.put(std::move(job));          // producer: waits while full
//   while (auto job = co_await jobs.next()) run(*job);   // consumer: ends once closed and drained
//   jobs.close();                               // no more puts
//
// - capacity 0 means unbounded. put() suspends the producer while the queue
//   is full; get() suspends the consumer while it is empty. Waiters are
//   served in order; an item goes straight to the first waiting consumer,
//   and a freed slot straight to the first waiting producer.
// - close(): further put()s throw Exception(Errc::closed), as do the
//   producers waiting (their items are dropped); consumers get what is still
//   queued, then get() throws Exception(Errc::closed) and next() returns
//   std::nullopt.
// - Cancellation: a producer cancelled while waiting for room has not put
//   its item; a consumer cancelled while waiting has not taken one. Once
//   handed an item (or a slot), a cancelled task keeps it and sees the
//   cancellation at its next suspension point, so no item is lost.
// - Loop thread only (try_put/try_get/close may be called from loop callbacks).
#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/sync/wait_queue.h"

namespace weft {

template <class T>
class Queue {
 public:
  explicit Queue(std::size_t capacity = 0) : capacity_(capacity) {}
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  class PutAwaiter : public detail::SyncWaiter {
   public:
    PutAwaiter(Queue& queue, T item) : SyncWaiter(queue.putters_, "Queue.put"), queue_(&queue), item_(std::move(item)) {}
    PutAwaiter(PutAwaiter&& other) : SyncWaiter(other), queue_(other.queue_), item_(std::move(other.item_)) {}
    bool await_ready() {
      if (queue_->closed_) return true;  // await_resume throws
      return queue_->offer(item_);
    }
    void await_resume() {
      if (root != nullptr) finish();  // throws Cancelled if interrupted
      if (item_) throw Exception(Errc::closed, "Queue::put on a closed queue");  // not delivered
    }

   private:
    friend class Queue;
    Queue* queue_;
    std::optional<T> item_;  // empty once it went into the queue
  };

  class GetAwaiter : public detail::SyncWaiter {
   public:
    explicit GetAwaiter(Queue& queue) noexcept : SyncWaiter(queue.getters_, "Queue.get"), queue_(&queue) {}
    GetAwaiter(GetAwaiter&& other) noexcept : SyncWaiter(other), queue_(other.queue_) {}
    bool await_ready() {
      item_ = queue_->take();
      return item_.has_value() || queue_->closed_;
    }
    std::optional<T> await_resume_optional() {
      if (root != nullptr) finish();
      return std::move(item_);
    }

   protected:
    friend class Queue;
    Queue* queue_;
    std::optional<T> item_;
  };

  class ItemAwaiter : public GetAwaiter {
   public:
    explicit ItemAwaiter(Queue& queue) noexcept : GetAwaiter(queue) {}
    T await_resume() {
      std::optional<T> item = this->await_resume_optional();
      if (!item) throw Exception(Errc::closed, "Queue::get on a closed, empty queue");
      return std::move(*item);
    }
  };

  class NextAwaiter : public GetAwaiter {
   public:
    explicit NextAwaiter(Queue& queue) noexcept : GetAwaiter(queue) {}
    std::optional<T> await_resume() { return this->await_resume_optional(); }
  };

  // co_await q.put(item): see the header comment.
  PutAwaiter put(T item) { return PutAwaiter(*this, std::move(item)); }
  // co_await q.get(): the next item; Exception(closed) once closed and empty.
  ItemAwaiter get() noexcept { return ItemAwaiter(*this); }
  // co_await q.next(): the next item, or std::nullopt once closed and empty.
  NextAwaiter next() noexcept { return NextAwaiter(*this); }

  // Without waiting: false (item left as it was) if full or closed.
  bool try_put(T&& item) {
    if (closed_) return false;
    std::optional<T> slot(std::move(item));
    if (offer(slot)) return true;
    item = std::move(*slot);
    return false;
  }
  bool try_put(const T& item) {
    if (closed_) return false;
    std::optional<T> slot(item);
    return offer(slot);
  }
  std::optional<T> try_get() { return take(); }

  void close();
  bool closed() const noexcept { return closed_; }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  bool full() const noexcept { return capacity_ != 0 && items_.size() >= capacity_; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  using Outcome = detail::SyncWaiter::Outcome;

  // Puts `slot`'s item into the queue (or straight to a waiting consumer);
  // false if there is no room.
  bool offer(std::optional<T>& slot) {
    if (!getters_.empty()) {
      auto& getter = static_cast<GetAwaiter&>(*getters_.front());
      getter.item_ = std::move(slot);
      slot.reset();
      getters_.wake_front(Outcome::granted);
      return true;
    }
    if (full()) return false;
    items_.push_back(std::move(*slot));
    slot.reset();
    return true;
  }

  // The next item, letting the first waiting producer in.
  std::optional<T> take() {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    if (!putters_.empty()) {
      auto& putter = static_cast<PutAwaiter&>(*putters_.front());
      items_.push_back(std::move(*putter.item_));
      putter.item_.reset();
      putters_.wake_front(Outcome::granted);
    }
    return item;
  }

  std::deque<T> items_;
  detail::WaitQueue getters_;
  detail::WaitQueue putters_;
  std::size_t capacity_;
  bool closed_ = false;
};

template <class T>
void Queue<T>::close() {
  if (closed_) return;
  closed_ = true;
  // Consumers wait only on an empty queue: there is nothing left for them.
  getters_.wake_all(Outcome::closed);
  putters_.wake_all(Outcome::closed);
}

}  // namespace weft
