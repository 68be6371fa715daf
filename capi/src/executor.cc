#include "capi/src/executor.h"

#include <string>
#include <utility>

#include "capi/src/future.h"
#include "capi/src/guard.h"
#include "capi/src/runtime.h"
#include "capi/src/scope.h"
#include "weft/executor.h"

namespace weft::capi {

// ---- CountingExecutor --------------------------------------------------------

namespace {

// A strand's drain job, counted until it has run or been dropped.
class CountedJob {
 public:
  CountedJob(CountingExecutor* owner, Callback job) noexcept : owner_(owner), job_(std::move(job)) {}
  CountedJob(CountedJob&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), job_(std::move(other.job_)) {}
  CountedJob& operator=(CountedJob&&) = delete;
  ~CountedJob() {
    if (owner_ == nullptr) return;
    job_.reset();
    owner_->job_done();
  }
  void operator()() {
    struct Done {
      CountingExecutor* owner;
      ~Done() { owner->job_done(); }
    } done{std::exchange(owner_, nullptr)};
    job_.invoke_once();
  }

 private:
  CountingExecutor* owner_;
  Callback job_;
};

}  // namespace

bool CountingExecutor::execute(Callback callback) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++in_flight_;
  }
  // A refused job is destroyed inside post(), which counts it done.
  return pool_.post(CountedJob(this, std::move(callback)));
}

void CountingExecutor::job_done() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void CountingExecutor::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

// ---- CExecutor ---------------------------------------------------------------

CExecutor::CExecutor(Runtime& runtime, unsigned threads, std::string_view name, SpinPolicy spin,
                     bool is_default)
    : runtime(runtime), type(Type::pool), is_default(is_default), name(runtime.allocator, name) {
  ThreadPoolOptions options;
  options.threads = threads;
  options.name = std::string(name);
  options.spin = spin;
  pool.emplace(std::move(options));
}

CExecutor::CExecutor(Runtime& runtime, CExecutor& parent)
    : runtime(runtime), type(Type::strand), is_default(false), name(runtime.allocator, "strand"),
      parent(&parent) {
  counting.emplace(*parent.pool);
  strand.emplace(*counting);
}

Executor& CExecutor::target() noexcept {
  if (type == Type::pool) return *pool;
  return *strand;
}

bool CExecutor::on_own_worker() const noexcept {
  const ThreadPool* current = ThreadPool::current();
  return current != nullptr && current == &*(type == Type::pool ? pool : parent->pool);
}

bool on_runtime_worker(Runtime& runtime) noexcept {
  const ThreadPool* current = ThreadPool::current();
  if (current == nullptr) return false;
  std::lock_guard<std::mutex> lock(runtime.executors_mutex);
  bool found = false;
  runtime.executors.for_each([&](CExecutor* executor) {
    if (executor->type == CExecutor::Type::pool && &*executor->pool == current) found = true;
  });
  return found;
}

CExecutor* register_executor(CExecutor* executor) {
  Runtime& runtime = executor->runtime;
  try {
    executor->handle = runtime.arena.add(Kind::executor, executor);
    std::lock_guard<std::mutex> lock(runtime.executors_mutex);
    runtime.executors.push_back(executor);
  } catch (...) {
    if (executor->handle != 0) runtime.arena.remove(executor->handle);
    runtime.allocator.destroy(executor);
    throw;
  }
  if (executor->parent != nullptr) executor->parent->strands.push_back(executor);
  return executor;
}

void destroy_executor(CExecutor* executor) noexcept {
  Runtime& runtime = executor->runtime;
  if (executor->type == CExecutor::Type::pool) {
    for (;;) {
      CExecutor* strand;
      {
        std::lock_guard<std::mutex> lock(executor->mutex);
        strand = executor->strands.front();
      }
      if (strand == nullptr) break;
      destroy_executor(strand);
    }
    {
      std::lock_guard<std::mutex> lock(executor->mutex);
      executor->accepting = false;
    }
    executor->pool->shutdown(ShutdownMode::drain);
  } else {
    {
      std::lock_guard<std::mutex> lock(executor->mutex);
      executor->accepting = false;
    }
    executor->counting->wait_idle();
    std::lock_guard<std::mutex> lock(executor->parent->mutex);
    executor->parent->strands.remove(executor);
  }
  {
    std::lock_guard<std::mutex> lock(runtime.executors_mutex);
    runtime.executors.remove(executor);
  }
  runtime.arena.remove(executor->handle);
  runtime.allocator.destroy(executor);
}

namespace {

// ---- submitted work ----------------------------------------------------------

// After the work finished, if the continuation had already run: unlinks the
// work from its scope on the loop thread (holds the link's reference).
struct WorkCleanup {
  CFuture* future;
  void operator()() const { future->unlink_work(); }
};

// The job a pool (or strand) runs: calls the work unless its future was
// cancelled, completes the future from the worker, and drops the job's
// reference. 24 bytes: stored inline in the pool's queue. Destroyed unrun
// (never, with the C layer's shutdown order; see executor.h), it cancels
// the future.
class WorkJob {
 public:
  WorkJob(CFuture* future, weft_work_fn work, void* user) noexcept
      : future_(future), work_(work), user_(user) {}
  WorkJob(WorkJob&& other) noexcept
      : future_(std::exchange(other.future_, nullptr)), work_(other.work_), user_(other.user_) {}
  WorkJob& operator=(WorkJob&&) = delete;
  ~WorkJob() {
    if (future_ != nullptr) finish(/*run=*/false);
  }
  void operator()() { finish(/*run=*/true); }

 private:
  void finish(bool run) noexcept {
    CFuture* future = std::exchange(future_, nullptr);
    if (!run) future->cancel();
    const bool call = run && !future->is_cancelled();
    weft_status status = WEFT_OK;
    Value value;
    std::string message;
    if (call) {
      future->extras_if_any()->work_state.store(1, std::memory_order_relaxed);
      status = call_work(future->runtime(), value, message);
    }
    const bool continuation_ran = future->finish_work();
    if (call) {
      future->complete(status, std::move(value), message.empty() ? nullptr : message.c_str(),
                       /*owned=*/true);
    }
    if (continuation_ran) {
      Runtime& runtime = future->runtime();
      try {
        if (!runtime.loop.call_soon_threadsafe(WorkCleanup{future})) {
          // The loop is closed: teardown frees the future.
        }
      } catch (...) {
        // No memory to post: the link stays until teardown frees it.
      }
    }
    future->release_producer();
    future->release();  // the job's reference
  }

  // Runs the work on this (worker) thread and turns its result into a
  // Value, or a failure status and message.
  weft_status call_work(Runtime& runtime, Value& value, std::string& message) noexcept {
    weft_value result = weft_value_none();
    weft_status status;
    try {
      status = work_(user_, &result);
    } catch (...) {
      const Error error = error_from_current_exception();
      try {
        message = "the work function threw: " + error.message();
      } catch (...) {
      }
      return WEFT_ERR_EXCEPTION;
    }
    if (status > 0) {
      message = "the work function returned a positive status";
      return WEFT_ERR_INVALID_STATE;
    }
    if (status != WEFT_OK) return status;
    try {
      value = Value::from_c(result, runtime.allocator);
      value.commit();  // the work handed its result over: weft owns it now
    } catch (...) {
      // Not stored: a POINTER result is still freed, as promised.
      if (result.kind == WEFT_VALUE_POINTER && result.as.pointer.destroy != nullptr) {
        result.as.pointer.destroy(result.as.pointer.pointer);
      }
      status = status_from_exception("weft_work_fn");
      message = "the work function's result was not stored: ";
      message += weft_status_str(status);
    }
    return status;
  }

  CFuture* future_;
  weft_work_fn work_;
  void* user_;
};

}  // namespace

}  // namespace weft::capi

using weft::Errc;
using weft::capi::api;
using weft::capi::CExecutor;
using weft::capi::fail;
using weft::capi::Kind;
using weft::capi::lookup;
using weft::capi::require;
using weft::capi::Runtime;

extern "C" {

WEFT_API weft_status weft_pool_create(weft_executor_t** out, weft_runtime_t* runtime,
                                      const weft_pool_options* options) {
  return api(__func__, [&] {
    require(out, "out");
    Runtime& rt = lookup<Runtime>(runtime, Kind::runtime, "runtime");
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    if (options != nullptr) {
      weft::capi::check_struct_size(options, options->struct_size, weft::capi::kPoolOptionsSize1_0,
                                    sizeof(weft_pool_options), "options");
      o.threads = options->threads;
      o.name = options->name;
      if (options->struct_size > weft::capi::kPoolOptionsSize1_0) o.spin = options->spin;
    }
    const weft::SpinPolicy spin = weft::capi::spin_policy(o.spin, "options.spin");
    if (rt.destroying.load(std::memory_order_relaxed)) {
      fail(Errc::closed, "weft_pool_create: the runtime is being destroyed");
    }
    CExecutor* pool = weft::capi::register_executor(rt.allocator.make<CExecutor>(
        rt, o.threads, o.name != nullptr ? o.name : "weft-pool", spin, /*is_default=*/false));
    *out = weft::capi::as_handle<weft_executor_t>(pool->handle);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_strand_create(weft_executor_t** out, weft_executor_t* inner) {
  return api(__func__, [&] {
    require(out, "out");
    CExecutor& pool = lookup<CExecutor>(inner, Kind::executor, "inner");
    if (pool.type != CExecutor::Type::pool) {
      fail(Errc::invalid_argument, "weft_strand_create: the inner executor must be a pool, not a strand");
    }
    Runtime& rt = pool.runtime;
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (!pool.accepting) fail(Errc::closed, "weft_strand_create: the pool is shutting down");
    CExecutor* strand = weft::capi::register_executor(rt.allocator.make<CExecutor>(rt, pool));
    *out = weft::capi::as_handle<weft_executor_t>(strand->handle);
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_executor_submit(weft_future_t** out, weft_executor_t* executor,
                                          weft_loop_t* loop, weft_work_fn work,
                                          weft_future_callback done, void* user) {
  return api(__func__, [&] {
    weft::capi::Scope& scope = weft::capi::loop_scope(loop, "weft_executor_submit");
    CExecutor& ex = lookup<CExecutor>(executor, Kind::executor, "executor");
    require(reinterpret_cast<const void*>(work), "work");
    if (&ex.runtime != &scope.runtime) {
      fail(Errc::invalid_argument, "weft_executor_submit: the executor and the loop belong to different runtimes");
    }
    if (const weft_status closed = scope.open_status(); closed != WEFT_OK) return closed;
    // Under the executor's lock, so that destroying it cannot refuse the post.
    std::lock_guard<std::mutex> lock(ex.mutex);
    if (!ex.accepting) fail(Errc::closed, "weft_executor_submit: the executor is being destroyed");
    weft::capi::CFuture* future = weft::capi::CFuture::create(scope);
    try {
      future->extras();
    } catch (...) {
      future->release_handle();  // nothing can complete it: it breaks, quietly
      throw;
    }
    future->start_work(scope);
    ++scope.runtime.work_submitted;
    weft::capi::WorkJob job(future, work, user);
    bool posted = false;
    try {
      posted = ex.type == CExecutor::Type::pool ? ex.pool->post(std::move(job))
                                                : ex.strand->execute(std::move(job));
    } catch (...) {
      // Refused (no memory for the queue): the job, destroyed unrun,
      // cancelled the future before any callback was registered; it breaks
      // quietly and `done` is never called.
      future->release_handle();
      throw;
    }
    // Not posted cannot happen while `accepting`; if it did, the job (left
    // in `job` or destroyed by the strand) cancels the future.
    (void)posted;
    // Registered after posting: the future completes on the loop thread
    // (this one), so not before this call returns. A fresh future's first
    // callback through its own scope is stored inline: nothing to fail.
    if (done != nullptr) future->add_callback(scope, done, user);
    if (out != nullptr) {
      *out = future->c_handle();
    } else {
      future->release_handle();
    }
    return WEFT_OK;
  });
}

WEFT_API weft_status weft_executor_destroy(weft_executor_t* executor) {
  if (executor == nullptr) return WEFT_OK;
  return api(__func__, [&] {
    CExecutor& ex = lookup<CExecutor>(executor, Kind::executor, "executor");
    if (ex.is_default) {
      fail(Errc::invalid_argument, "weft_executor_destroy: the runtime's default pool lives as long as the runtime");
    }
    if (ex.on_own_worker()) {
      fail(Errc::invalid_state, "weft_executor_destroy: called from one of the executor's own workers, "
                                "which it would wait for");
    }
    weft::capi::destroy_executor(&ex);
    return WEFT_OK;
  });
}

}  // extern "C"
