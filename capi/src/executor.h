// weft::capi::CExecutor: the object behind a weft_executor_t — a thread pool
// (ThreadPool) or a strand over one (Strand).
//
// Lifetime: submit() posts under `mutex` while `accepting`; destroy sets
// `accepting` to false under the same mutex first, so no post can race a
// shutdown and none is ever refused. A pool then shuts down draining its
// queue (jobs of cancelled futures skip their work). A strand waits until no
// drain job of its own is queued or running: its inner executor is a
// CountingExecutor that counts them, and a strand with callbacks queued
// always has a drain job posted.
//
// Threads: create, destroy and the list of strands under `mutex`: any
// thread. submit: the runtime's loop thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string_view>

#include "capi/src/alloc.h"
#include "capi/src/handles.h"
#include "capi/src/list.h"
#include "core/executor/executor.h"
#include "core/executor/strand.h"
#include "core/executor/thread_pool.h"

namespace weft::capi {

struct Runtime;

// Posts to a pool and counts the jobs it posted that have not finished.
class CountingExecutor final : public Executor {
 public:
  explicit CountingExecutor(ThreadPool& pool) noexcept : pool_(pool) {}
  [[nodiscard]] bool execute(Callback callback) override;
  void wait_idle();
  void job_done() noexcept;

 private:
  ThreadPool& pool_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;  // guarded
};

struct CExecutor {
  enum class Type { pool, strand };

  CExecutor(Runtime& runtime, unsigned threads, std::string_view name, SpinPolicy spin,
            bool is_default);
  CExecutor(Runtime& runtime, CExecutor& parent);

  Runtime& runtime;
  const Type type;
  const bool is_default;
  Text name;
  HandleBits handle = 0;
  CExecutor* parent = nullptr;  // a strand's pool

  std::mutex mutex;
  bool accepting = true;  // guarded by mutex

  ListHook strand_hook;   // in parent->strands (Type::strand)
  ListHook runtime_hook;  // in runtime.executors

  List<CExecutor, &CExecutor::strand_hook> strands;  // a pool's strands, guarded by mutex

  std::optional<ThreadPool> pool;            // Type::pool
  std::optional<CountingExecutor> counting;  // Type::strand
  std::optional<Strand> strand;              // Type::strand

  Executor& target() noexcept;
  // Whether the calling thread is one of the workers running this executor.
  bool on_own_worker() const noexcept;
};

// Gives a freshly made executor its handle and links it into its runtime
// (and its pool, for a strand: the caller holds the pool's mutex). On
// failure frees it and rethrows.
CExecutor* register_executor(CExecutor* executor);

// Whether the calling thread is a worker of one of `runtime`'s pools (which
// may never make loop-thread calls). Any thread.
bool on_runtime_worker(Runtime& runtime) noexcept;

// Shuts `executor` down (strands of a pool first), unlinks and frees it.
// Never from one of the executor's own workers, where the pool's shutdown
// would throw (and this is noexcept) or a strand would wait for itself:
// weft_executor_destroy refuses that (on_own_worker), and the runtime's
// teardown runs on the loop thread, which no worker can be (weft_loop_claim
// refuses workers, and running the loop never moves it).
void destroy_executor(CExecutor* executor) noexcept;

}  // namespace weft::capi
