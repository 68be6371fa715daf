// Plain value types a Loop takes and reports: options, run and close reports,
// counters, and the context handed to the exception handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock/clock.h"
#include "core/spin_policy.h"

namespace weft {

struct LoopOptions {
  // The clock timers are measured against; nullptr means MonotonicClock. Not
  // owned: it must outlive the loop.
  Clock* clock = nullptr;
  // Debug mode: time every callback and report those slower than
  // slow_callback_threshold through the exception handler (like asyncio's).
  bool debug = false;
  Duration slow_callback_threshold = std::chrono::milliseconds(100);
  // Whether the loop, with nothing ready but work expected from other
  // threads, spins on its inbox (up to Loop::kSpinBeforeSleep, or up to
  // kSpinBeforeSleepMax where its wake-ups are slow; adapted to how soon
  // posts arrived in its recent waits) before it sleeps in the kernel; and,
  // with I/O in flight, watches that I/O (up to Loop::kIoSpinBeforeSleep,
  // adapted to how soon its recent sleeps ended on I/O).
  // See core/spin_policy.h for the trade-off.
  SpinPolicy spin = SpinPolicy::adaptive;
};

// What run_for() did and what is left, for a host deciding its next frame.
struct RunReport {
  std::size_t ran = 0;                   // callbacks run (timers and I/O callbacks included)
  std::size_t ready = 0;                 // callbacks ready to run now
  std::optional<TimePoint> next_timer;   // earliest pending timer (loop clock)
  bool stopped = false;                  // stop() was called
};

// What close() did with the work that was still pending.
struct CloseReport {
  std::size_t callbacks_run = 0;       // ready callbacks run during close
  std::size_t callbacks_dropped = 0;   // still re-posting after the drain limit: destroyed unrun
  std::size_t timers_cancelled = 0;    // pending timers, destroyed unrun
  std::size_t futures_cancelled = 0;   // futures with continuations here, cancelled
  std::size_t tasks_cancelled = 0;     // tasks still running, asked to cancel
  std::size_t tasks_destroyed = 0;     // tasks still pending after the drain: destroyed (and reported)
  std::size_t handles_closed = 0;      // I/O objects and other libuv handles still open
};

// Counters since the loop was created. Read on the loop thread.
struct LoopStats {
  std::uint64_t callbacks_run = 0;
  std::uint64_t threadsafe_posts = 0;   // callbacks that arrived from other threads
  std::uint64_t timers_armed = 0;
  std::uint64_t timers_fired = 0;
  std::uint64_t timers_cancelled = 0;
  std::uint64_t iterations = 0;         // passes of the loop (each one checks timers and I/O)
  std::uint64_t sleeps = 0;             // times the loop blocked waiting for work
  std::uint64_t spins = 0;              // waits that spun on the inbox first (SpinPolicy)
  std::uint64_t spin_hits = 0;          // of those, the ones a post ended before the spin did
  Duration spin_ceiling{};              // the longest a spin may last now (0: SpinPolicy::off)
  Duration wake_latency{};              // recent wake-ups' average, request to loop (0: none yet)
  std::uint64_t io_spins = 0;           // waits that watched the loop's I/O before sleeping
  std::uint64_t io_spin_hits = 0;       // of those, the ones I/O ended before the spin did
  Duration io_spin_limit{};             // how long the next spin for I/O may last (0: none)
  std::uint64_t exceptions = 0;         // exceptions that escaped callbacks
  std::uint64_t slow_callbacks = 0;     // debug mode only
  std::uint64_t tasks_spawned = 0;
  std::size_t ready_depth = 0;          // callbacks ready now
  std::size_t timers_pending = 0;       // callback timers and coroutine sleeps
  std::size_t futures_pending = 0;      // futures with a continuation waiting here
  std::size_t tasks_alive = 0;          // spawned tasks not finished yet
  std::size_t generators_open = 0;      // async generators started and not finished
  std::size_t frames_in_use = 0;        // coroutine blocks from the loop's pool not yet freed
};

// Where a task is in its life (TaskHandle::status, Loop::tasks).
enum class TaskStatus {
  pending,    // spawned, not started yet
  running,    // running now, or ready to resume
  waiting,    // suspended on a weft operation (see TaskInfo::awaiting)
  done,       // finished with a value
  failed,     // finished with an error or exception
  cancelled,  // finished cancelled
};

// A snapshot of one task, for diagnostics (Loop::tasks, TaskHandle::info).
struct TaskInfo {
  std::uint64_t id = 0;
  std::string name;        // as given to spawn, else "Task-<id>"
  TaskStatus status = TaskStatus::pending;
  std::string awaiting;    // what it waits on when known: "sleep (1.5 s left)", "Event", ...
  bool cancelling = false; // a cancellation was requested and not yet withdrawn
};

// What Loop::shutdown did.
struct ShutdownReport {
  std::size_t cancelled = 0;             // tasks it asked to cancel
  std::size_t finished = 0;              // of those (and tasks spawned meanwhile), how many ended
  std::vector<std::string> stragglers;   // names of tasks still running at the deadline
};

// Handed to the exception handler.
struct ExceptionContext {
  enum class Kind {
    callback_exception,   // an exception escaped a callback; the loop went on
    slow_callback,        // debug mode: a callback ran longer than the threshold
    dropped_callbacks,    // close() destroyed callbacks that kept re-posting
    unretrieved_error,    // a failed result nobody looked at ("exception never retrieved")
    task_destroyed,       // close() destroyed a task that was still pending
    generator_error,      // an async generator misbehaved while being finalised
  };
  Kind kind = Kind::callback_exception;
  std::string message;
  std::exception_ptr exception;   // for callback_exception and unretrieved_error
  Duration duration{0};           // for slow_callback
};

// Runs on the loop thread. Must not throw (an exception from it is swallowed
// after writing it to stderr).
using ExceptionHandler = std::function<void(const ExceptionContext&)>;

// Writes the context to stderr: the default handler.
void default_exception_handler(const ExceptionContext& context);

}  // namespace weft
