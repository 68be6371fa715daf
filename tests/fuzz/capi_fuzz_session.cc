// The C API fuzz target's entry point, and the runtime it keeps across
// inputs (runs on the fuzzer's thread, which is the runtime's loop thread).
//
// Creating and destroying a runtime (its loop, its pool's worker thread)
// for every input cost more than most programs do, so one runtime serves
// many inputs. Each input still starts from a clean state:
// - the input gets a scope of its own: its loop handle is the program's
//   "root" loop, and the scopes the program makes are destroyed with it;
// - when the input ends, every scope it made is destroyed, the loop runs
//   until every callback the input registered was called and the runtime
//   lists nothing but its root scope and pool (weft_runtime_dump), and the
//   references the program still holds to futures are released, and the
//   pool's worker has finished (and freed) every job the input gave it;
// - then the runtime's allocator must hold exactly the blocks it held
//   before the input, the process exactly the descriptors it had (by
//   number and fstat identity after every input; also by what /proc says
//   each is, every 64th input), every POINTER value must have been
//   destroyed once, the read buffers the loop thread keeps are freed, and
//   the temp dir is emptied (if the input was given a path in it). A state
//   that leaked from one input into the next is a crash.
// So every input frees what it allocated (bar the inputs that make a new
// runtime): libFuzzer runs an input that allocated more than it freed a
// second time under a leak check (a heap scan), which cost about a fifth
// of all CPU time while 3 % of inputs did. A new runtime's loop is grown
// before its first input (prime_loop) for the same reason.
// The target's own bookkeeping allocates nothing in an input: one World
// serves every input (its containers keep their room), its Calls are
// recycled (poisoned in between, so a late callback is still caught), and
// the descriptor listings reuse their buffers. Under AddressSanitizer
// every allocation is costly (its stack recorded, its block taken from the
// quarantine), and the bookkeeping made about half an input's allocations.
// Every kInputsPerRuntime inputs (and at the end of a replay) the runtime
// is destroyed, which must return every block, and a new one is made.
//
// Misuse reports and error events are counted, not printed: weft's default
// handlers write a line for each, which cost more than the program itself.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "core/io/detail/read_buffers.h"
#include "tests/fuzz/capi_fuzz.h"
#include "weft/weft.h"

namespace capi_fuzz {
namespace {

constexpr long kInputsPerRuntime = 1000;
// How long the loop may take to settle an input's leftovers (cancelled I/O,
// pool work finishing): far more than it ever needs.
constexpr auto kSettleLimit = std::chrono::seconds(10);

// Counts blocks held from the runtime's allocator (any thread).
struct Tracking {
  std::mutex mutex;
  long live = 0;
};

CAPI_FUZZ_BOOKKEEPING void* track_alloc(void* user, size_t size, size_t) {
  auto* t = static_cast<Tracking*>(user);
  void* p = std::malloc(size);
  if (p != nullptr) {
    std::lock_guard<std::mutex> lock(t->mutex);
    ++t->live;
  }
  return p;
}

CAPI_FUZZ_BOOKKEEPING void track_free(void* user, void* p, size_t, size_t) {
  auto* t = static_cast<Tracking*>(user);
  {
    std::lock_guard<std::mutex> lock(t->mutex);
    --t->live;
  }
  std::free(p);
}

CAPI_FUZZ_BOOKKEEPING long live_blocks(Tracking& t) {
  std::lock_guard<std::mutex> lock(t.mutex);
  return t.live;
}

std::atomic<long> g_misuses{0};
std::atomic<long> g_events{0};

void count_misuse(void*, const char*, weft_status, const char*) { ++g_misuses; }
void count_event(void*, const weft_event*) { ++g_events; }

// The descriptors this process has open, with what each is ("3=anon_inode:
// [eventpoll] 4=pipe:[1234] ..."): a leak that closes one descriptor and
// opens another changes the text, not only the count.
std::string open_descriptors() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) violated("cannot list /proc/self/fd");
  const std::string own = std::to_string(dirfd(dir));
  std::string text;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.' || own == entry->d_name) continue;
    char target[256] = {0};
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    if (readlink(link.c_str(), target, sizeof(target) - 1) < 0) continue;
    text += std::string(entry->d_name) + "=" + target + " ";
  }
  closedir(dir);
  return text;
}

[[noreturn]] void descriptors_changed(const std::string& before, const char* what) {
  std::fprintf(stderr, "descriptors before: %s\ndescriptors now:    %s\n", before.c_str(), open_descriptors().c_str());
  violated(what);
}

// The descriptors this process has open, each with what stat says it is
// (device, inode, type): what open_descriptors() says, except that all
// anonymous inodes (eventfd, epoll, signalfd, timerfd) are one inode. It
// costs a getdents64 of /proc/self/fd (kept open: Descriptors::dir) and an
// fstatat per open descriptor, where open_descriptors() costs an open of
// /proc, a readlink per descriptor and strings: it is compared after every
// input, open_descriptors() every kInputsPerFullDescriptorCheck inputs.
// Each descriptor is looked at by its /proc/self/fd entry (descriptor_ids),
// so the look never races with a worker closing it.
constexpr long kInputsPerFullDescriptorCheck = 64;

struct DescriptorId {
  int fd;
  dev_t device;
  ino_t inode;
  mode_t mode;
  dev_t rdev;
  bool operator==(const DescriptorId& o) const {
    return fd == o.fd && device == o.device && inode == o.inode && mode == o.mode && rdev == o.rdev;
  }
};

// What the checks keep of the process's descriptors. The vectors keep their
// room from input to input (an input allocates nothing for the checks).
struct Descriptors {
  int dir = -1;  // /proc/self/fd, open for good before the first runtime (left out of every listing)
  std::vector<int> numbers;          // scratch: the open descriptors' numbers
  std::vector<DescriptorId> before;  // at the start of the input
  std::vector<DescriptorId> now;     // scratch: at the end of it
  // `before` is what the last input left (its end check found it so), and
  // nothing but the fuzzing engine ran since: start_input takes it again
  // without an fstat each when the numbers open are still the same.
  bool left_by_last_input = false;
  std::string text;  // open_descriptors() at the start, on the inputs that compare it
};

// The numbers of the descriptors open now, ascending.
CAPI_FUZZ_BOOKKEEPING void descriptor_numbers(Descriptors& d) {
  d.numbers.clear();
  const bool listed = list_directory(d.dir, [&](const char* name) {
    int fd = 0;
    for (const char* c = name; *c >= '0' && *c <= '9'; ++c) fd = fd * 10 + (*c - '0');
    if (fd != d.dir) d.numbers.push_back(fd);
  });
  if (!listed) violated("cannot list /proc/self/fd");
  std::sort(d.numbers.begin(), d.numbers.end());
}

// Each descriptor is identified through its /proc/self/fd entry (fstatat on
// the kept directory: the same device, inode and mode as fstat), not with
// fstat(N): a file's close runs on the pool's worker and may still be under
// way while end_input waits for the descriptors to settle, and a look by
// path does not touch the descriptor that thread is closing.
CAPI_FUZZ_BOOKKEEPING void descriptor_ids(Descriptors& d, std::vector<DescriptorId>& ids) {
  descriptor_numbers(d);
  ids.clear();
  for (int fd : d.numbers) {
    char name[16];
    char* end = name + sizeof name;
    *--end = '\0';
    int rest = fd;
    do {
      *--end = static_cast<char>('0' + rest % 10);
      rest /= 10;
    } while (rest != 0);
    struct stat st;
    if (::fstatat(d.dir, end, &st, 0) != 0) continue;  // closed since
    ids.push_back({fd, st.st_dev, st.st_ino, st.st_mode, st.st_rdev});
  }
}

// What the process has open before an input. Between two inputs only the
// fuzzing engine runs (the loop is not run, the pool's worker has passed
// the barrier): what it opens (a file it writes, pipes to a symbolizer)
// changes the numbers open, or is closed again. With the same numbers open
// as the last input left, `before` is what it left; otherwise (and after a
// new runtime) each descriptor is identified again.
CAPI_FUZZ_BOOKKEEPING void start_input(Descriptors& d, bool full_check) {
  bool same = d.left_by_last_input;
  if (same) {
    descriptor_numbers(d);
    same = d.numbers.size() == d.before.size();
    for (size_t i = 0; same && i < d.numbers.size(); ++i) same = d.numbers[i] == d.before[i].fd;
  }
  if (!same) descriptor_ids(d, d.before);
  d.left_by_last_input = false;
  d.text.clear();
  if (full_check) d.text = open_descriptors();
}

std::string describe(const std::vector<DescriptorId>& ids) {
  std::string text;
  for (const DescriptorId& id : ids) {
    text += std::to_string(id.fd) + "=" + std::to_string(id.device) + ":" + std::to_string(id.inode) + ":" +
            std::to_string(id.mode) + " ";
  }
  return text;
}

// What the runtime lists besides its root scope and its pool.
struct Leftovers {
  int scopes = 0;
  int executors = 0;
  size_t others = 0;
};

CAPI_FUZZ_BOOKKEEPING void count_object(void* user, const weft_object_info* info) {
  auto* left = static_cast<Leftovers*>(user);
  switch (info->kind) {
    case WEFT_OBJECT_SCOPE: ++left->scopes; break;
    case WEFT_OBJECT_EXECUTOR: ++left->executors; break;
    default: left->others += info->count;
  }
}

CAPI_FUZZ_BOOKKEEPING bool runtime_is_idle(weft_runtime_t* runtime) {
  Leftovers left;
  if (weft_runtime_dump(runtime, count_object, &left) != WEFT_OK) violated("weft_runtime_dump failed");
  return left.scopes == 1 && left.executors == 1 && left.others == 0;
}

// The pool's worker after every job the input gave it (barrier_work ran):
// the worker runs jobs one at a time, in order, and destroys each before it
// takes the next, so everything it was given before the barrier has also
// been freed. (A job's result reaches the loop before the worker destroys
// the job, and a cancelled operation's job may still run after its
// callback was called: without the barrier those frees fall into the next
// input or between inputs, and libFuzzer sees an input that allocated more
// than it freed, which it runs again under a leak check.)
weft_status barrier_work(void* user, weft_value* result) {
  static_cast<std::atomic<bool>*>(user)->store(true, std::memory_order_release);
  *result = weft_value_none();
  return WEFT_OK;
}

// Frees the read buffers this thread keeps for stream reads
// (core/io/detail/read_buffers.h): the strings a write handed to the kernel
// and the read results given back. The pool fills and empties with the
// program's reads and writes; emptied after every input, it holds nothing
// an input allocated (libFuzzer would see more allocations than frees) and
// every input starts with the same pool.
CAPI_FUZZ_BOOKKEEPING void release_read_buffers() {
  weft::detail::release_read_buffers();
  if (weft::detail::pooled_read_buffers() != 0) violated("the read buffers kept for stream reads were not freed");
}

CAPI_FUZZ_BOOKKEEPING bool every_call_made(const World& w) {
  for (const Call* call : w.calls) {
    if (!call->called) return false;
  }
  return true;
}

// The runtime kept across inputs.
struct Session {
  Tracking tracking;
  weft_runtime_t* runtime = nullptr;
  weft_loop_t* root = nullptr;
  weft_executor_t* pool = nullptr;
  long inputs = 0;            // run on this runtime
  long blocks_between = -1;   // the allocator's blocks between inputs
  // The descriptors the runtime opened when it was made (its loop's), as
  // open_descriptors() writes them: none may be open after it is destroyed.
  // (Between inputs the fuzzing engine opens its own, e.g. pipes to the
  // symbolizer that names new functions: those are nobody's leak.)
  std::vector<std::string> descriptors_of_runtime;
  Descriptors descriptors;
  World world;  // every input's (World::reset)
  // end_input's scratch: the program's references, and those it still holds.
  std::vector<weft_future_t*> references;
  std::vector<weft_future_t*> held;
  unsigned long inputs_run = 0;  // by this process, for next_tcp_host
  char tcp_host[16] = "127.0.0.1";
};

Session g_session;

template <class Done>
bool settles(Session& s, Done done);
template <class Done>
void settle(Session& s, Done done, const char* what) {
  if (!settles(s, done)) violated(what);
}

// The loop keeps what it grew for earlier inputs: its inbox's room for
// continuations (one entry per future alive, in chunks of 64, kept as
// spares once made) and its timer queue's slots and heap. An input that
// needed more than any before it would allocate chunks it does not free,
// which libFuzzer would take for a possible leak (it runs such an input a
// second time under a heap scan). A new runtime grows them beyond what
// inputs need (at most 256 steps, a few futures each) before its first
// input, with futures and timers made and released at once.
constexpr int kPrimedFutures = 512;
constexpr int kPrimedTimers = 256;

void prime_loop(Session& s) {
  std::vector<weft_future_t*> futures;
  futures.reserve(kPrimedFutures + kPrimedTimers);
  for (int i = 0; i < kPrimedFutures; ++i) {
    weft_future_t* f = nullptr;
    if (weft_future_create(&f, s.root) != WEFT_OK) violated("no future to prime the loop with");
    futures.push_back(f);
  }
  for (int i = 0; i < kPrimedTimers; ++i) {
    weft_future_t* f = nullptr;
    if (weft_loop_call_later(&f, s.root, WEFT_MS(1000 + i), nullptr, nullptr) != WEFT_OK) {
      violated("no timer to prime the loop with");
    }
    futures.push_back(f);
  }
  for (weft_future_t* f : futures) {
    weft_future_cancel(f);
    if (weft_future_release(f) != WEFT_OK) violated("a priming future could not be released");
  }
  settle(s, [&] { return runtime_is_idle(s.runtime); }, "the priming futures and timers did not end");
}

void make_runtime(Session& s) {
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.clock = WEFT_CLOCK_MANUAL;
  options.threads = 1;
  // The pool's worker sleeps as soon as it has no work (C API 1.2): spinning
  // would take CPU from this thread, which does the fuzzing.
  options.spin = WEFT_SPIN_OFF;
  options.allocator = weft_allocator{track_alloc, track_free, &s.tracking};
  if (weft_runtime_create(&s.runtime, &options) != WEFT_OK) violated("no runtime");
  weft_runtime_set_error_handler(s.runtime, count_event, nullptr);
  weft_runtime_loop(&s.root, s.runtime);
  weft_runtime_pool(&s.pool, s.runtime);
  // libuv opens one descriptor per loop (/dev/null, kept to recover from
  // EMFILE) at the loop's first stream: a listener made and closed here
  // opens it, so that every input finds the same descriptors.
  weft_tcp_listener_t* listener = nullptr;
  if (weft_tcp_listen(&listener, s.root, "127.0.0.1", 0, nullptr) != WEFT_OK) violated("no priming listener");
  weft_tcp_listener_close(listener);
  settle(s, [&] { return runtime_is_idle(s.runtime); }, "the priming listener did not close");
  prime_loop(s);
}

// Once, before the first runtime: what stays open for good is opened (the
// temp dir, /proc/self/fd for the descriptor checks), so that no runtime or
// input sees it appear, and the containers every input uses get room for
// most inputs (an input that needs more allocates it once; libFuzzer then
// runs that input a second time under its leak check).
constexpr int kSpareCalls = 1024;
constexpr size_t kRoom = 256;

void start_process(Session& s) {
  prepare_temp_dir();
  s.descriptors.dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s.descriptors.dir < 0) violated("cannot open /proc/self/fd");
  s.descriptors.numbers.reserve(kRoom);
  s.descriptors.before.reserve(kRoom);
  s.descriptors.now.reserve(kRoom);
  s.references.reserve(kRoom);
  s.held.reserve(kRoom);
  World& w = s.world;
  for (auto* v : {&w.futures, &w.timers, &w.releases}) v->reserve(kRoom);
  for (auto& v : w.op_futures) v.reserve(kRoom);
  w.op_calls.reserve(kRoom);
  w.loops.reserve(kRoom);
  w.scopes.reserve(kRoom);
  w.listeners.reserve(kRoom);
  w.streams.reserve(kRoom);
  w.pipe_streams.reserve(kRoom);
  w.pipe_listeners.reserve(kRoom);
  w.udp_sockets.reserve(kRoom);
  w.files.reserve(kRoom);
  w.signals.reserve(kRoom);
  w.signal_numbers.reserve(kRoom);
  w.calls.reserve(kSpareCalls);
  w.pool_calls.reserve(kRoom);
  w.spare_calls.reserve(kSpareCalls);
  for (int i = 0; i < kSpareCalls; ++i) w.calls.push_back(new Call);
  recycle_calls(w);
}

void start_runtime(Session& s) {
  static bool primed = false;
  if (!primed) {
    // libuv opens descriptors once per process, too: a pipe at the first
    // signal watch (kept until the process ends). A first runtime that
    // watches a signal opens it, so that each runtime closes all it opened.
    primed = true;
    weft_set_misuse_handler(count_misuse, nullptr);
    make_runtime(s);
    weft_signal_t* signal = nullptr;
    if (weft_signal_watch(&signal, s.root, SIGUSR1) != WEFT_OK) violated("no priming signal watch");
    weft_signal_close(signal);
    if (weft_runtime_destroy(s.runtime) != WEFT_OK) violated("the priming runtime was not destroyed");
    s.runtime = nullptr;
  }
  const std::string before = open_descriptors();
  make_runtime(s);
  s.descriptors_of_runtime.clear();
  const std::string after = open_descriptors();
  for (size_t start = 0, end; (end = after.find(' ', start)) != std::string::npos; start = end + 1) {
    const std::string entry = after.substr(start, end + 1 - start);  // "N=target "
    if ((" " + before).find(" " + entry) == std::string::npos) s.descriptors_of_runtime.push_back(entry);
  }
  s.inputs = 0;
  s.blocks_between = live_blocks(s.tracking);
  s.descriptors.left_by_last_input = false;
}

void end_runtime(Session& s) {
  if (s.runtime == nullptr) return;
  if (weft_runtime_destroy(s.runtime) != WEFT_OK) violated("weft_runtime_destroy failed");
  s.runtime = nullptr;
  s.descriptors.left_by_last_input = false;
  if (live_blocks(s.tracking) != 0) violated("the runtime's allocator has blocks left after weft_runtime_destroy");
  const std::string now = open_descriptors();
  for (const std::string& entry : s.descriptors_of_runtime) {
    if ((" " + now).find(" " + entry) != std::string::npos) {
      std::fprintf(stderr, "still open: %s\n", entry.c_str());
      violated("a descriptor of the runtime is open after weft_runtime_destroy");
    }
  }
}

// The loopback address of the next input's TCP listeners and connections.
// A listener's port 0 is chosen by the kernel among the ports no socket on
// the same address holds, TIME_WAIT sockets included: it probes one port
// after another from a random start, so the more of them a closed
// connection still holds (for 60 s), the longer a listen takes. The
// program's connections leave thousands within a minute, and other
// programs on the machine leave theirs on 127.0.0.1: measured on this
// kernel, with 7,500 of them on 127.0.0.1 a listen there took 1.5-1.8 ms,
// on an address none held 10-12 us. So each input takes its own address
// of 127.0.0.0/8 (127.A.B.C, A 1..254, B 0..255, C 1..254, in turn: the
// same one again after 16 million inputs). What the program does on it is
// what it did on 127.0.0.1.
CAPI_FUZZ_BOOKKEEPING const char* next_tcp_host(Session& s) {
  const unsigned long n = s.inputs_run++ % (254ul * 256 * 254);
  std::snprintf(s.tcp_host, sizeof s.tcp_host, "127.%lu.%lu.%lu", 1 + n / (256 * 254), n / 254 % 256, 1 + n % 254);
  return s.tcp_host;
}

// Runs the loop until `done` holds, waiting on the backend fd when nothing
// is ready; false if that takes longer than kSettleLimit.
template <class Done>
bool settles(Session& s, Done done) {
  const auto limit = std::chrono::steady_clock::now() + kSettleLimit;
  int fd = -1;
  weft_loop_backend_fd(&fd, s.root);
  for (;;) {
    if (weft_loop_run(s.root, WEFT_RUN_NOWAIT) != WEFT_OK) violated("the runtime's loop did not run");
    if (done()) return true;
    if (std::chrono::steady_clock::now() > limit) return false;
    struct pollfd readable = {fd, POLLIN, 0};
    const struct timespec slice = {0, 50000};
    ::ppoll(&readable, 1, &slice, nullptr);
  }
}

// Ends the input's program: its scopes destroyed, its callbacks called, its
// references released, the runtime back where it was before the input.
CAPI_FUZZ_BOOKKEEPING void end_input(Session& s, World& w, weft_scope_t* input_scope) {
  // Cancelled first, so that the callbacks still to come see their loop
  // handles as the program made them; then destroyed.
  for (weft_scope_t* scope : w.scopes) weft_scope_cancel(scope);  // stale ones: refused
  if (weft_scope_cancel(input_scope) != WEFT_OK) violated("the input's scope could not be cancelled");
  settle(s, [&] { return every_call_made(w); },
         "the input's callbacks were not all called 10 s after its scopes were cancelled");
  for (weft_scope_t* scope : w.scopes) weft_scope_destroy(scope);
  if (weft_scope_destroy(input_scope) != WEFT_OK) violated("the input's scope could not be destroyed");
  settle(s, [&] { return runtime_is_idle(s.runtime); },
         "the runtime still lists the input's work 10 s after its scopes were destroyed");
  if (!every_call_made(w)) violated("a callback was never called");
  // The references the program still holds: one per entry in `futures`,
  // less one per entry in `releases` (a future released more often than
  // the program took it holds none); and the Calls' own references to
  // futures of operations that had no callback to release them.
  s.references.assign(w.futures.begin(), w.futures.end());
  std::sort(s.references.begin(), s.references.end());
  std::sort(w.releases.begin(), w.releases.end());
  s.held.clear();
  std::set_difference(s.references.begin(), s.references.end(), w.releases.begin(), w.releases.end(),
                      std::back_inserter(s.held));
  for (weft_future_t* f : s.held) {
    if (weft_future_release(f) != WEFT_OK) violated("a future the program holds could not be released");
  }
  for (Call* call : w.calls) {
    if (call->future != nullptr && !call->future_taken && weft_future_release(call->future) != WEFT_OK) {
      violated("an operation's future, held for its Call, could not be released");
    }
    call->future = nullptr;
  }
  std::atomic<bool> barrier_reached{false};
  if (weft_executor_submit(nullptr, s.pool, s.root, barrier_work, nullptr, &barrier_reached) != WEFT_OK) {
    violated("the pool refused the barrier after an input");
  }
  settle(s, [&] { return barrier_reached.load(std::memory_order_acquire); },
         "the pool's worker did not reach the barrier 10 s after the input's callbacks were called");
  settle(s, [&] { return runtime_is_idle(s.runtime) && live_blocks(s.tracking) <= s.blocks_between; },
         "the runtime's allocator holds more blocks after an input than before it");
  Descriptors& d = s.descriptors;
  if (!settles(s, [&] {
        descriptor_ids(d, d.now);
        return d.now == d.before;
      })) {
    std::fprintf(stderr, "descriptors before (fd=device:inode:mode): %s\ndescriptors now: %s\n",
                 describe(d.before).c_str(), describe(d.now).c_str());
    descriptors_changed(d.text, "the process's descriptors after an input are not those before it");
  }
  if (!d.text.empty() && !settles(s, [&] { return open_descriptors() == d.text; })) {
    descriptors_changed(d.text, "the process's descriptors after an input are not those before it");
  }
  d.left_by_last_input = true;
  release_read_buffers();
  if (live_blocks(s.tracking) != s.blocks_between) {
    violated("the runtime's allocator holds fewer blocks after an input than before it");
  }
  {
    std::lock_guard<std::mutex> lock(w.pointer_mutex);
    if (w.pointers_given != w.pointers_destroyed) violated("a pointer value was not destroyed exactly once");
  }
}

}  // namespace

}  // namespace capi_fuzz

// At the end of a replay (replay_main.cc): the runtime kept across inputs
// is destroyed, which must return every block.
extern "C" void fuzz_replay_finished() { capi_fuzz::end_runtime(capi_fuzz::g_session); }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace capi_fuzz;
  Session& s = g_session;
  if (s.descriptors.dir < 0) start_process(s);
  if (s.runtime != nullptr && s.inputs >= kInputsPerRuntime) end_runtime(s);
  if (s.runtime == nullptr) start_runtime(s);
  ++s.inputs;
  // The full check on the first input of each runtime and every
  // kInputsPerFullDescriptorCheck inputs after it.
  start_input(s.descriptors, s.inputs % kInputsPerFullDescriptorCheck == 1);

  weft_scope_t* input_scope = nullptr;
  if (weft_scope_create(&input_scope, s.runtime, "input") != WEFT_OK) violated("no scope for the input");
  weft_loop_t* root = nullptr;
  weft_scope_loop(&root, input_scope);
  World& w = s.world;
  w.reset(s.runtime, root, s.pool);
  w.tcp_host = next_tcp_host(s);

  run_program(w, data, size);
  end_input(s, w, input_scope);
  recycle_calls(w);
  empty_temp_dir();  // after the handles: listeners removed their socket files
  return 0;
}
