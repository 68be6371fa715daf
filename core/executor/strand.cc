#include "core/executor/strand.h"

namespace weft {

// Protocol: `scheduled_` is true from the moment execute() decides to post a
// drain job until a drain job finds the queue empty (both under mutex_).
// Only the thread that set it posts, so at most one drain job exists; only a
// drain job pops, so callbacks run one at a time in queue order. A drain job
// that runs a full batch and still sees work re-posts itself instead of
// looping, and keeps `scheduled_` set across the hop.
//
// Inline re-posts: each running drain pushes a frame on a thread-local list.
// If the inner executor runs a re-posted drain job inline, that job finds its
// strand's frame already on this thread, marks it and returns; the outer
// drain sees the mark and continues in its loop instead of recursing.

namespace {

struct DrainFrame {
  const Strand* strand;
  DrainFrame* outer;
  bool reposted_inline;
};

thread_local DrainFrame* tls_drain_frames = nullptr;

}  // namespace

bool Strand::execute(Callback callback) {
  std::uint64_t taken_before = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (failed_) return false;
    queue_.emplace_back(std::move(callback));
    if (scheduled_) return true;
    scheduled_ = true;
    taken_before = taken_;  // the queue was empty: `callback` is its front
  }
  bool posted = false;
  try {
    posted = post_drain();
  } catch (...) {
    Callback taken;
    bool not_started = false;
    bool alone = false;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      // Nothing taken since: the drain job was never posted (out of memory),
      // as opposed to an inline executor running it and a callback throwing.
      not_started = taken_ == taken_before && !failed_;
      alone = not_started && queue_.size() == 1;
      if (alone) {
        // Take `callback` back: the caller sees the exception, nothing queued.
        taken = queue_.take_front();
        scheduled_ = false;
      }
    }
    // Others queued behind it meanwhile (relying on this drain job): nothing
    // can run them, and the strand fails as when the inner executor refuses.
    if (not_started && !alone) fail();
    throw;
  }
  if (posted) return true;
  fail();
  return false;
}

bool Strand::running_in_this_thread() const noexcept {
  for (const DrainFrame* frame = tls_drain_frames; frame != nullptr; frame = frame->outer) {
    if (frame->strand == this) return true;
  }
  return false;
}

bool Strand::post_drain() {
  return inner_.execute([this] { drain(); });
}

void Strand::fail() noexcept {
  detail::ChunkedQueue<Callback, 64> dropped;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    failed_ = true;
    scheduled_ = false;
    queue_.swap(dropped);
  }
  // `dropped` is destroyed here, outside the lock.
}

// Runs the front callback. Returns false (and ends this drain job's turn) if
// the queue was empty.
bool Strand::run_one() {
  Callback callback;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (queue_.empty()) {
      scheduled_ = false;
      return false;
    }
    callback = std::move(queue_.front());
    queue_.pop_front();
    ++taken_;
  }
  callback.invoke_once();
  return true;
}

void Strand::drain() {
  for (DrainFrame* frame = tls_drain_frames; frame != nullptr; frame = frame->outer) {
    if (frame->strand == this) {
      frame->reposted_inline = true;
      return;
    }
  }
  DrainFrame frame{this, tls_drain_frames, false};
  tls_drain_frames = &frame;
  try {
    for (;;) {
      for (std::size_t i = 0; i < kBatch; ++i) {
        if (!run_one()) {
          tls_drain_frames = frame.outer;
          return;
        }
      }
      {
        std::lock_guard<std::mutex> guard(mutex_);
        if (queue_.empty()) {
          scheduled_ = false;
          tls_drain_frames = frame.outer;
          return;
        }
      }
      frame.reposted_inline = false;
      if (!post_drain()) {
        tls_drain_frames = frame.outer;
        fail();
        return;
      }
      if (!frame.reposted_inline) {
        tls_drain_frames = frame.outer;
        return;  // the inner executor runs the rest later
      }
    }
  } catch (...) {
    // A callback threw (this drain job still holds `scheduled_`). Leave the
    // frame first, so an inline executor really runs the re-post, hand the
    // rest to a new drain job, then let the inner executor see the exception.
    tls_drain_frames = frame.outer;
    bool more = false;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      more = !queue_.empty() && !failed_;
      if (!more) scheduled_ = false;
    }
    if (more && !post_drain()) fail();
    throw;
  }
}

}  // namespace weft
