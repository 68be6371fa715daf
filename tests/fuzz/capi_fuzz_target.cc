// A fuzz target that drives weft's C API with random programs.
//
// This file has the core API's steps, the opcode dispatch and the checks
// after each input; the I/O API's steps are in capi_fuzz_io.cc, and what
// both share is in capi_fuzz.h.
//
// The input is read as a sequence of operations (an opcode byte, then the
// bytes it needs): create and resolve futures, register callbacks through
// random scopes, arm and cancel timers, run the loop, cancel and destroy
// scopes, combine futures, submit pool work, listen, accept, connect, read,
// write and close TCP on loopback; the I/O API (opcodes 224..255): streams
// (TCP through weft_tcp_as_stream, socket pairs, Unix domain sockets, pipes
// from pipe(2)), UDP between the program's own sockets, files in a temp dir
// the target makes for each input, weft_resolve of "localhost" and numeric hosts,
// SIGUSR1/SIGUSR2 watched and raised, and weft_process_spawn calls that
// fail before spawning — and misuse: forged handles, handles of the wrong
// kind, handles used after release, close or destroy, invalid enums, sizes
// and options, runs from inside callbacks. Some callbacks call back into the
// API (and close I/O handles from inside their own callbacks).
//
// Whatever the program, after weft_runtime_destroy these must hold, or the
// target aborts (and the fuzzer reports a crash):
// - every callback weft accepted was called exactly once, with arguments
//   that agree with its status (a read's length within what was asked, a
//   read_until's bytes ending with the delimiter, a signal's number, ...);
// - every POINTER value weft accepted was destroyed exactly once;
// - the runtime's allocator has no block left;
// - no API call crashed, hung or leaked (the sanitizers watch that).
// The program only runs the loop without blocking (NOWAIT, run_for): with
// no other thread to complete anything, a blocking run could wait forever
// by design; the I/O steps wait for I/O at most a few milliseconds.
//
// Nothing here reaches beyond the machine: sockets are on loopback, UDP
// datagrams go only to the program's own sockets, names resolved are
// "localhost" (IPv4 or any family, which /etc/hosts answers) and numeric
// hosts, and no process is spawned. Signals raised are only SIGUSR1 and
// SIGUSR2, and only while weft's handler is installed for them.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "tests/fuzz/capi_fuzz.h"
#include "weft/weft.h"

extern "C" weft_status fuzz_loop_run_raw(weft_loop_t* loop, int mode);  // raw_enums.c

namespace capi_fuzz {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "capi fuzz target: invariant violated: %s\n", what);
  std::abort();
}

namespace {

// Counts blocks held from the runtime's allocator (any thread).
struct Tracking {
  std::mutex mutex;
  long live = 0;
};

void* track_alloc(void* user, size_t size, size_t) {
  auto* t = static_cast<Tracking*>(user);
  void* p = std::malloc(size);
  if (p != nullptr) {
    std::lock_guard<std::mutex> lock(t->mutex);
    ++t->live;
  }
  return p;
}

void track_free(void* user, void* p, size_t, size_t) {
  auto* t = static_cast<Tracking*>(user);
  {
    std::lock_guard<std::mutex> lock(t->mutex);
    --t->live;
  }
  std::free(p);
}

void destroy_pointer(void* p) {
  auto* world = static_cast<World*>(p);
  std::lock_guard<std::mutex> lock(world->pointer_mutex);
  ++world->pointers_destroyed;
}

}  // namespace

Call* new_call(World& w, uint8_t action) {
  auto* call = new Call;
  call->world = &w;
  call->action = action;
  w.calls.push_back(call);
  return call;
}

void called(Call* call) {
  if (call->called) violated("a callback was called twice");
  call->called = true;
  ++call->world->callbacks_run;
}

// Something a callback does inside weft when it runs (loop thread).
void act(Call* call) {
  World& w = *call->world;
  if (w.reentry_budget <= 0) return;
  --w.reentry_budget;
  if (call->action >= 0xF0) {
    io_act(call);
    return;
  }
  switch (call->action % 6) {
    case 0:
      break;
    case 1:  // run the loop from inside: must be refused
      if (weft_loop_run(w.root, WEFT_RUN_NOWAIT) != WEFT_ERR_REENTRANT_RUN) {
        violated("a loop ran from inside its own callback");
      }
      break;
    case 2: {  // post one more
      Call* next = new_call(w, 0);
      if (weft_loop_call_soon(w.pick(w.loops, call->action), on_plain, next) != WEFT_OK) next->called = true;
      break;
    }
    case 3:
      weft_scope_cancel(w.pick(w.scopes, call->action));
      break;
    case 4:
      weft_scope_destroy(w.pick(w.scopes, call->action));
      break;
    case 5:
      weft_future_cancel(w.pick(w.futures, call->action));
      break;
  }
}

void on_plain(void* user, weft_status) {
  auto* call = static_cast<Call*>(user);
  called(call);
  act(call);
}

namespace {

void on_future(void* user, weft_future_t* future, weft_status, const weft_value* value, const char*) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (value == nullptr) violated("a future callback got no value");
  // Inside its callback a future's handle is usable, even if every
  // reference was released: retain and release it again.
  if ((call->action & 0x40) && weft_future_retain(future) == WEFT_OK) weft_future_release(future);
  act(call);
}

void on_stream(void* user, weft_status status, weft_tcp_stream_t* stream) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if ((status == WEFT_OK) != (stream != nullptr)) violated("a stream callback's stream and status disagree");
  if (stream != nullptr) call->world->streams.push_back(stream);
  act(call);
}

void on_read(void* user, weft_status status, const void* bytes, size_t len) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (status == WEFT_OK && (bytes == nullptr || len == 0)) violated("a read delivered nothing");
  act(call);
}

// The TCP operations (loopback only; connects go to this program's listeners).
void tcp_step(World& w, Input& in, uint8_t op, uint8_t a) {
  switch (op) {
    case 0: {
      weft_tcp_listener_t* listener = nullptr;
      weft_tcp_listen_options options = WEFT_TCP_LISTEN_OPTIONS_INIT;
      // Sometimes too small; never larger than the struct (that would be a
      // lie weft reads past, as any C library would).
      if (a & 1) options.struct_size = in.byte() % (sizeof(options) + 1);
      if (weft_tcp_listen(&listener, w.pick(w.loops, a), "127.0.0.1", 0, (a & 2) ? &options : nullptr) ==
          WEFT_OK) {
        w.listeners.push_back(listener);
      }
      break;
    }
    case 1: {
      Call* call = new_call(w, in.byte());
      weft_status s;
      if (a & 1) {
        s = weft_tcp_accept(w.pick(w.listeners, a >> 1), on_stream, call);
      } else {
        uint16_t port = 1;  // nothing listens there: refused
        weft_tcp_listener_port(&port, w.pick(w.listeners, a >> 1));
        s = weft_tcp_connect(w.pick(w.loops, a >> 1), "127.0.0.1", port, in.byte(), on_stream, call);
      }
      if (s != WEFT_OK) call->called = true;
      break;
    }
    case 2: {
      static const char text[] = "fuzz";
      weft_tcp_stream_t* stream = w.pick(w.streams, a >> 2);
      Call* call = new_call(w, in.byte());
      weft_status s;
      switch (a & 3) {
        case 0: s = weft_tcp_read(stream, in.byte(), on_read, call); break;
        case 1: s = weft_tcp_write(stream, text, in.byte() % 5, on_plain, call); break;
        case 2: s = weft_tcp_shutdown(stream, on_plain, call); break;
        default:
          weft_tcp_write(stream, (a & 4) ? text : nullptr, in.byte() % 5, nullptr, nullptr);
          s = WEFT_ERR_UNKNOWN;  // no callback to expect
      }
      if (s != WEFT_OK) call->called = true;
      break;
    }
    default:
      switch (a % 3) {
        case 0: weft_tcp_close(w.pick(w.streams, in.byte())); break;
        case 1: weft_tcp_listener_close(w.pick(w.listeners, in.byte())); break;
        default:  // forged handles
          weft_tcp_close(forged<weft_tcp_stream_t>(in));
          weft_tcp_listener_close(forged<weft_tcp_listener_t>(in));
      }
  }
}
weft_status work(void* user, weft_value* result) {
  auto* call = static_cast<Call*>(user);
  if (call->action & 1) return WEFT_ERR_TIMED_OUT;
  *result = weft_value_int64(call->action);
  return WEFT_OK;
}

weft_value make_value(World& w, Input& in, bool* is_pointer) {
  *is_pointer = false;
  static const char text[] = "fuzz";
  switch (in.byte() % 7) {
    case 0: return weft_value_none();
    case 1: return weft_value_int64(static_cast<int64_t>(in.u64()));
    case 2: return weft_value_string(text);
    case 3: return weft_value_bytes(text, in.byte() % 5);
    case 4:
      *is_pointer = true;
      return weft_value_pointer(&w, destroy_pointer);
    case 5: {  // malformed: a bad kind, or bytes with no data
      weft_value v;
      std::memset(&v, 0, sizeof(v));
      const int kind = static_cast<int>(in.byte()) - 3;
      std::memcpy(&v.kind, &kind, sizeof(kind));  // any int, as a C caller could
      if (kind == WEFT_VALUE_POINTER) {
        // A C library cannot check a function pointer: a garbage destroy
        // function is the caller's bug, not a misuse weft can report.
        v.as.pointer.pointer = nullptr;
        v.as.pointer.destroy = nullptr;
        return v;
      }
      v.as.bytes.data = nullptr;
      v.as.bytes.size = in.byte();
      return v;
    }
    default: return weft_value_double(1.5);
  }
}

void step(World& w, Input& in) {
  const uint8_t op = in.byte();
  const uint8_t a = in.byte();
  if (op >= 224) {
    io_step(w, in, op - 224, a);
    return;
  }
  if (op % 28 >= 24) {
    tcp_step(w, in, op % 28 - 24, a);
    return;
  }
  switch (op % 28) {
    case 0: {
      Call* call = new_call(w, in.byte());
      if (weft_loop_call_soon(w.pick(w.loops, a), on_plain, call) != WEFT_OK) call->called = true;
      break;
    }
    case 1: {
      Call* call = new_call(w, in.byte());
      weft_timer_t* timer = nullptr;
      const uint64_t delay = in.byte() * 1000000ull;
      if (weft_loop_call_later((a & 1) ? &timer : nullptr, w.pick(w.loops, a), delay, on_plain, call) != WEFT_OK) {
        call->called = true;
      } else if (timer != nullptr) {
        w.timers.push_back(timer);
      }
      break;
    }
    case 2:
      weft_timer_cancel(w.pick(w.timers, a));
      break;
    case 3: {
      weft_future_t* f = nullptr;
      if (weft_future_create(&f, w.pick(w.loops, a)) == WEFT_OK) w.futures.push_back(f);
      break;
    }
    case 4: {
      Call* call = new_call(w, in.byte());
      if (weft_future_then(w.pick(w.futures, a), w.pick(w.loops, in.byte()), on_future, call) != WEFT_OK) {
        call->called = true;
      }
      break;
    }
    case 5: {
      bool is_pointer;
      weft_value v = make_value(w, in, &is_pointer);
      weft_status s = weft_future_resolve(w.pick(w.futures, a), &v);
      if (is_pointer) {
        std::lock_guard<std::mutex> lock(w.pointer_mutex);
        if (s == WEFT_OK) {
          ++w.pointers_given;
        } else {
          ++w.pointers_given;  // refused: still ours; "free" it ourselves
          ++w.pointers_destroyed;
        }
      }
      break;
    }
    case 6:
      weft_future_reject(w.pick(w.futures, a), static_cast<weft_status>(static_cast<int>(in.u64() % 2100) - 2050),
                         (a & 1) ? "fuzzed" : nullptr);
      break;
    case 7:
      weft_future_cancel(w.pick(w.futures, a));
      break;
    case 8:
      weft_future_release(w.pick(w.futures, a));
      break;
    case 9:
      if (weft_future_retain(w.pick(w.futures, a)) == WEFT_OK) w.futures.push_back(w.pick(w.futures, a));
      break;
    case 10: {
      // Never a blocking mode: nothing outside this single-threaded program
      // could complete what the loop would wait for. Invalid modes: yes.
      int mode = (a % 5) - 1;  // -1 .. 3
      if (mode == WEFT_RUN_DEFAULT || mode == WEFT_RUN_ONCE) mode = WEFT_RUN_NOWAIT;
      fuzz_loop_run_raw(w.root, mode);
      break;
    }
    case 11:
      weft_loop_run_for(nullptr, w.root, a * 1000ull);
      break;
    case 12:
      weft_loop_advance_clock(w.root, a * 1000000ull);
      break;
    case 13: {
      weft_scope_t* scope = nullptr;
      if (weft_scope_create(&scope, w.runtime, (a & 1) ? "fuzz" : nullptr) == WEFT_OK) {
        w.scopes.push_back(scope);
        weft_loop_t* loop = nullptr;
        weft_scope_loop(&loop, scope);
        w.loops.push_back(loop);
      }
      break;
    }
    case 14:
      weft_scope_cancel(w.pick(w.scopes, a));
      break;
    case 15:
      weft_scope_destroy(w.pick(w.scopes, a));
      break;
    case 16: {
      weft_future_t* inputs[4];
      const size_t n = a % 5;
      for (size_t i = 0; i < n; ++i) inputs[i] = w.pick(w.futures, in.byte());
      weft_future_t* out = nullptr;
      weft_loop_t* loop = w.pick(w.loops, in.byte());
      weft_status s;
      switch (in.byte() % 3) {
        case 0: s = weft_future_all(&out, loop, inputs, n); break;
        case 1: s = weft_future_any(&out, loop, inputs, n); break;
        default: s = weft_future_with_timeout(&out, loop, n > 0 ? inputs[0] : nullptr, in.byte() * 1000000ull);
      }
      if (s == WEFT_OK) w.futures.push_back(out);
      break;
    }
    case 17: {
      Call* call = new_call(w, in.byte());
      weft_future_t* f = nullptr;
      weft_status s = weft_executor_submit((a & 1) ? &f : nullptr, w.pool, w.pick(w.loops, a), work,
                                           (a & 2) ? on_future : nullptr, call);
      if (s != WEFT_OK || !(a & 2)) call->called = true;  // no callback to expect
      if (s == WEFT_OK && f != nullptr) w.futures.push_back(f);
      break;
    }
    case 18: {  // forged handles
      Call* call = new_call(w, 0);
      if (weft_loop_call_soon(forged<weft_loop_t>(in), on_plain, call) != WEFT_OK) call->called = true;
      weft_future_cancel(forged<weft_future_t>(in));
      weft_timer_cancel(forged<weft_timer_t>(in));
      weft_scope_cancel(forged<weft_scope_t>(in));
      break;
    }
    case 19: {
      weft_status status;
      weft_value value;
      const char* message;
      weft_future_result(&status, &value, &message, w.pick(w.futures, a));
      break;
    }
    case 20: {
      weft_stats stats = WEFT_STATS_INIT;
      weft_runtime_stats(&stats, w.runtime);
      char text[256];
      weft_runtime_dump_text(text, a % sizeof(text), nullptr, w.runtime);
      break;
    }
    case 21:
      weft_scope_drain(nullptr, w.pick(w.scopes, a), 1000000);  // 1 ms
      break;
    case 22:
      weft_future_set_name(w.pick(w.futures, a), (a & 1) ? "named" : nullptr);
      break;
    default: {
      Call* call = new_call(w, 0);
      if (weft_loop_call_soon_threadsafe(w.pick(w.loops, a), on_plain, call) != WEFT_OK) call->called = true;
      break;
    }
  }
}

}  // namespace
}  // namespace capi_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace capi_fuzz;
  prepare_temp_dir();
  Tracking tracking;
  World w;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.clock = WEFT_CLOCK_MANUAL;
  options.threads = 1;
  options.allocator = weft_allocator{track_alloc, track_free, &tracking};
  if (weft_runtime_create(&w.runtime, &options) != WEFT_OK) violated("no runtime");
  weft_runtime_loop(&w.root, w.runtime);
  weft_runtime_pool(&w.pool, w.runtime);
  w.loops.push_back(w.root);

  Input in(data, size);
  for (int steps = 0; in.more() && steps < 256; ++steps) step(w, in);

  if (weft_runtime_destroy(w.runtime) != WEFT_OK) violated("weft_runtime_destroy failed");
  for (Call* call : w.calls) {
    if (!call->called) violated("a callback was never called");
    delete call;
  }
  if (w.pointers_given != w.pointers_destroyed) violated("a pointer value was not destroyed exactly once");
  if (tracking.live != 0) violated("the runtime's allocator has blocks left");
  remove_temp_dir();  // after the runtime: its listeners removed their socket files
  return 0;
}
