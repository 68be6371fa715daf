// What the two files of the C API fuzz target share: the program's reader
// (Input), the program's state (World), the record of each callback weft
// accepted (Call), what any callback does when it runs (act), and the entry
// points of the I/O steps.
//
// capi_fuzz_target.cc has the core API's steps (loops, timers, futures,
// scopes, the pool, TCP), the opcode dispatch and the invariants checked
// after each input; capi_fuzz_io.cc has the I/O API's steps (opcodes
// 224..255: streams, pipes, UDP, files, DNS, signals, process bad input),
// with their callbacks and misuse step in capi_fuzz_io_checks.cc.
#ifndef WEFT_TESTS_FUZZ_CAPI_FUZZ_H
#define WEFT_TESTS_FUZZ_CAPI_FUZZ_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "weft/weft.h"

namespace capi_fuzz {

// The target's own bookkeeping (reading the input, its containers and
// counters, the checks' listings) is left out of libFuzzer's coverage and
// comparison tracing: it says nothing about weft, and tracing each of its
// comparisons cost about 3 % of all CPU time.
#if defined(__clang__)
#define CAPI_FUZZ_BOOKKEEPING __attribute__((no_sanitize("coverage")))
#else
#define CAPI_FUZZ_BOOKKEEPING
#endif

// Reports a broken invariant and aborts (the fuzzer reports a crash).
[[noreturn]] void violated(const char* what);

// The program's reader: each take returns 0 once the input is used up.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  CAPI_FUZZ_BOOKKEEPING bool more() const { return pos_ < size_; }
  CAPI_FUZZ_BOOKKEEPING uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  CAPI_FUZZ_BOOKKEEPING uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

struct World;

// The kinds of operation whose futures the cancel steps pick from.
enum OpKind { kOpRead, kOpRecv, kOpPipeAccept, kOpTcpAccept, kOpOther, kOpKinds };

// One registered callback: what it does when called, and that it was.
struct Call {
  World* world;
  uint8_t action;  // what the callback does inside weft when it runs
  bool called = false;
  // The operation's optional `out` future (weft.h's one asynchronous
  // model), chosen by out_mode(action). `slot` is what the call wrote to
  // *out; `future` is the Call's own reference, kept until its callback has
  // checked that the future completed first, with the same outcome.
  weft_future_t* slot = nullptr;
  weft_future_t* future = nullptr;
  // The program's references to a kept future (out_mode 1): it may release
  // more than it holds (a misuse weft must take), and once it has released
  // the Call's reference too, the Call's check is off.
  int program_refs = 0;
  bool future_taken = false;
  // What the I/O callbacks' arguments must agree with (see the on_* below).
  size_t max = 0;         // a read's most bytes (0: not checked)
  size_t exactly = 0;     // read_exactly's n, or write_at's len (0: not checked)
  std::string delimiter;  // read_until's delimiter
  int signum = 0;         // the signal a wait watches
  uint16_t port = 0;      // the port a lookup asked for
  bool bytes_null_at_end = false;  // read_at: len 0 comes with bytes NULL
};

// The program's state. One World serves every input (capi_fuzz_session.cc):
// reset() empties it before each, and its containers keep the room earlier
// inputs needed, so that an input allocates nothing for its own bookkeeping
// (the sanitizer's allocator is a large part of an input's cost).
struct World {
  weft_runtime_t* runtime = nullptr;
  weft_loop_t* root = nullptr;
  weft_executor_t* pool = nullptr;
  // The loopback address the input's TCP listeners and connections use:
  // one of 127.0.0.0/8, another for each input (capi_fuzz_session.cc says
  // why).
  const char* tcp_host = "127.0.0.1";
  std::vector<weft_loop_t*> loops;      // root first, then scopes' (stale ones stay)
  std::vector<weft_scope_t*> scopes;    // (stale ones stay)
  std::vector<weft_future_t*> futures;  // (released ones stay)
  std::vector<weft_future_t*> timers;   // timers' futures (also in `futures`)
  // Operation futures kept by the program (also in `futures`), by kind,
  // for the steps that cancel one operation (weft_future_cancel).
  std::vector<weft_future_t*> op_futures[kOpKinds];
  // Kept operation futures with their Calls (find_op_call).
  std::vector<std::pair<weft_future_t*, Call*>> op_calls;
  std::vector<weft_tcp_listener_t*> listeners;  // (closed ones stay)
  std::vector<weft_stream_t*> streams;          // TCP streams (closed ones stay)
  // The I/O API's handles (ended ones stay, as stale handles).
  std::vector<weft_stream_t*> pipe_streams;       // pairs, accepted, connected, opened
  std::vector<weft_pipe_listener_t*> pipe_listeners;
  std::vector<weft_udp_socket_t*> udp_sockets;
  std::vector<weft_file_t*> files;
  std::vector<weft_signal_t*> signals;
  std::vector<int> signal_numbers;  // signals[i] watches signal_numbers[i]
  long callbacks_run = 0;           // every callback, for the I/O waits
  // Successful weft_future_release calls of the program, one entry each:
  // with `futures` (one entry per reference the program took) they say how
  // many references the program still holds when the input ends.
  std::vector<weft_future_t*> releases;
  std::vector<Call*> calls;  // this input's; back to spare_calls when it ends
  // Those of `calls` whose operation completes on a pool thread (files,
  // DNS, executor work): the I/O wait step waits only for these.
  std::vector<Call*> pool_calls;
  std::vector<Call*> spare_calls;  // Calls of earlier inputs, poisoned (new_call)
  std::mutex pointer_mutex;
  long pointers_given = 0;
  long pointers_destroyed = 0;
  int reentry_budget = 64;

  template <class T>
  T pick(const std::vector<T>& from, uint8_t b) {
    return from.empty() ? nullptr : from[b % from.size()];
  }

  // The Call of a kept operation future, or nullptr.
  CAPI_FUZZ_BOOKKEEPING Call* find_op_call(weft_future_t* f) const {
    for (const auto& [future, call] : op_calls) {
      if (future == f) return call;
    }
    return nullptr;
  }

  // Empties the World for an input on `runtime` (loop thread, between
  // inputs; every Call of the last input returned by recycle_calls).
  CAPI_FUZZ_BOOKKEEPING void reset(weft_runtime_t* runtime, weft_loop_t* root, weft_executor_t* pool);

  World() = default;
  ~World();  // frees the Calls
  World(const World&) = delete;
  World& operator=(const World&) = delete;
};

// A new Call for a callback about to be registered, taken from the World's
// spare Calls (or allocated); it goes back to them when the input ends.
CAPI_FUZZ_BOOKKEEPING Call* new_call(World& w, uint8_t action);

// Gives every Call of the input back to the World's spares, each poisoned
// (AddressSanitizer) until new_call takes it again: a callback weft calls
// after its input ended touches poisoned memory and is reported, as a
// freed Call was. Between inputs only.
CAPI_FUZZ_BOOKKEEPING void recycle_calls(World& w);

// Whether a callback of an operation that completes on a pool thread is
// still to come (the I/O wait step waits for nothing else: loopback I/O is
// ready when the loop next runs); on_pool marks a Call as one.
CAPI_FUZZ_BOOKKEEPING bool pool_calls_pending(const World& w);
CAPI_FUZZ_BOOKKEEPING void on_pool(Call* call);

// Marks a callback called (and fails if it was already).
void called(Call* call);

// Something a callback does inside weft when it runs (loop thread).
void act(Call* call);

// The `out` argument of an operation for `call`: by out_mode(call->action)
// NULL, or &call->slot.
//   0: NULL; 1: kept (the program's future steps get it too, and the cancel
//   steps of its kind); 2: released at once; 3: cancelled at once.
int out_mode(uint8_t action);
weft_future_t** out_for(Call* call);

// After an operation was called with `call`: a refused call (its callback
// never called, *out untouched) or one with no callback is marked called;
// a future it gave is kept, released or cancelled (out_mode).
void made(Call* call, weft_status status, bool has_callback, OpKind kind = kOpOther);

// What every operation callback checks first: called once (called()); the
// message rule (NULL exactly with WEFT_OK, otherwise a non-empty message);
// and, if the Call kept the operation's future, that the future completed
// just before, with the same status (and a value `value_ok` accepts); then
// the Call's reference to it is released.
void op_called(Call* call, weft_status status, const char* message,
               bool (*value_ok)(const weft_value& value, const void* expected, size_t n) = nullptr,
               const void* expected = nullptr, size_t n = 0);
// value_ok checks: NONE; BYTES of n bytes; INT64 equal to n; a POINTER to
// `expected` (a stream, a file) or, with expected NULL, any POINTER.
bool value_none(const weft_value& v, const void*, size_t);
bool value_bytes(const weft_value& v, const void*, size_t n);
bool value_int64(const weft_value& v, const void*, size_t n);
bool value_pointer(const weft_value& v, const void* expected, size_t);

// A weft_callback that records its call (op_called, value NONE), then acts.
void on_plain(void* user, weft_status status, const char* message);

// A handle of type H made from 8 input bytes (most likely not a handle).
template <class H>
H* forged(Input& in) {
  return reinterpret_cast<H*>(static_cast<uintptr_t>(in.u64()));
}

// Calls visit(name) for each entry of the directory open as `dir` but "."
// and "..", read from its start with getdents64 into a buffer on the stack
// (no allocation, no DIR); false if it cannot be read. The descriptor stays
// open, for the next listing.
template <class Visit>
CAPI_FUZZ_BOOKKEEPING bool list_directory(int dir, Visit visit) {
  if (::lseek(dir, 0, SEEK_SET) != 0) return false;
  struct Entry {  // what getdents64 writes (linux/dirent.h)
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
  };
  alignas(Entry) char buffer[4096];
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (n < 0) return false;
    if (n == 0) return true;
    for (long at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const Entry*>(buffer + at);
      at += entry->d_reclen;
      const char* name = entry->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      visit(name);
    }
  }
}

// Runs the input as a program of C API steps on `w` (capi_fuzz_target.cc).
void run_program(World& w, const uint8_t* data, size_t size);

// capi_fuzz_io.cc: the I/O steps.

// Makes the temp dir of the file and socket steps (once, before the first
// runtime: under $TEST_TMPDIR, or /tmp; its descriptor stays open), and
// empties it (after each input that was given a path in it, once the
// input's handles are closed).
void prepare_temp_dir();
void empty_temp_dir();

// What an I/O callback does when it runs (act with an action >= 0xF0).
void io_act(Call* call);

// One I/O step: opcode `op` (0..31, from input opcodes 224..255), with
// argument byte `a`.
void io_step(World& w, Input& in, uint8_t op, uint8_t a);

}  // namespace capi_fuzz

#endif
