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
// (TCP streams, socket pairs, Unix domain sockets, pipes
// from pipe(2)), UDP between the program's own sockets, files in a temp dir
// the target empties after each input, weft_resolve of "localhost" and numeric hosts,
// SIGUSR1/SIGUSR2 watched and raised, and weft_process_spawn calls that
// fail before spawning — and misuse: forged handles, handles of the wrong
// kind, handles used after release, close or destroy, invalid enums, sizes
// and options, runs from inside callbacks. Some callbacks call back into the
// API (and close I/O handles from inside their own callbacks).
//
// Every asynchronous operation follows weft.h's one asynchronous model: its
// `out` future is NULL or not (chosen by the callback's action byte, see
// out_mode), and a future the program got is kept (and given to the future
// steps: then, cancel, release, combinators), released at once, or
// cancelled at once; the steps that cancel one operation (a timer, a read,
// a receive, an accept) call weft_future_cancel on a kept future. Callbacks
// may be NULL.
//
// Whatever the program, once the input has ended (its scopes cancelled and
// destroyed: capi_fuzz_session.cc) these must hold, or the target aborts
// (and the fuzzer reports a crash):
// - every callback weft accepted was called exactly once, with arguments
//   that agree with its status (a read's length within what was asked, a
//   read_until's bytes ending with the delimiter, a signal's number, ...)
//   and a message exactly when it failed;
// - an operation's future, if the program kept it, completed before its
//   callback ran, with the callback's status and a value that agrees with
//   the callback's result; a refused operation wrote no future;
// - every POINTER value weft accepted was destroyed exactly once;
// - the runtime's allocator holds the blocks it held before the input;
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
#include <sanitizer/asan_interface.h>

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

void destroy_pointer(void* p) {
  auto* world = static_cast<World*>(p);
  std::lock_guard<std::mutex> lock(world->pointer_mutex);
  ++world->pointers_destroyed;
}

}  // namespace

Call* new_call(World& w, uint8_t action) {
  Call* call;
  if (w.spare_calls.empty()) {
    call = new Call;
  } else {
    call = w.spare_calls.back();
    w.spare_calls.pop_back();
    ASAN_UNPOISON_MEMORY_REGION(call, sizeof(Call));
    *call = Call();
  }
  call->world = &w;
  call->action = action;
  w.calls.push_back(call);
  return call;
}

void recycle_calls(World& w) {
  for (Call* call : w.calls) {
    w.spare_calls.push_back(call);
    ASAN_POISON_MEMORY_REGION(call, sizeof(Call));
  }
  w.calls.clear();
}

World::~World() {
  recycle_calls(*this);
  for (Call* call : spare_calls) {
    ASAN_UNPOISON_MEMORY_REGION(call, sizeof(Call));
    delete call;
  }
}

void World::reset(weft_runtime_t* r, weft_loop_t* root_loop, weft_executor_t* p) {
  runtime = r;
  root = root_loop;
  pool = p;
  loops.assign(1, root_loop);
  scopes.clear();
  futures.clear();
  timers.clear();
  for (auto& kind : op_futures) kind.clear();
  op_calls.clear();
  listeners.clear();
  streams.clear();
  pipe_streams.clear();
  pipe_listeners.clear();
  udp_sockets.clear();
  files.clear();
  signals.clear();
  signal_numbers.clear();
  callbacks_run = 0;
  releases.clear();
  pool_calls.clear();
  if (!calls.empty()) violated("a World was reset with its input's Calls");
  std::lock_guard<std::mutex> lock(pointer_mutex);
  pointers_given = 0;
  pointers_destroyed = 0;
  reentry_budget = 64;
}

bool pool_calls_pending(const World& w) {
  for (const Call* call : w.pool_calls) {
    if (!call->called) return true;
  }
  return false;
}

void on_pool(Call* call) { call->world->pool_calls.push_back(call); }

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

int out_mode(uint8_t action) { return (action >> 3) & 3; }

weft_future_t** out_for(Call* call) { return out_mode(call->action) == 0 ? nullptr : &call->slot; }

void made(Call* call, weft_status status, bool has_callback, OpKind kind) {
  World& w = *call->world;
  if (status != WEFT_OK) {
    if (call->slot != nullptr) violated("a refused operation wrote *out");
    call->called = true;  // never called
    return;
  }
  if (!has_callback) call->called = true;  // nothing to call
  const int mode = out_mode(call->action);
  if (mode == 0) return;
  weft_future_t* f = call->slot;
  if (f == nullptr) violated("an operation accepted with an out gave no future");
  switch (mode) {
    case 1:
      call->future = f;  // the Call's reference
      if (weft_future_retain(f) != WEFT_OK) violated("an operation's future could not be retained");
      w.futures.push_back(f);  // the program's reference
      w.op_futures[kind].push_back(f);
      w.op_calls.emplace_back(f, call);
      call->program_refs = 1;
      break;
    case 2:
      if (weft_future_release(f) != WEFT_OK) violated("an operation's future could not be released");
      break;
    default: {
      call->future = f;
      // The callback may run inside this call (a timer), and release f.
      const weft_status s = weft_future_cancel(f);
      if (s != WEFT_OK && s != WEFT_ERR_ALREADY_COMPLETED) violated("cancelling an operation's future failed");
      // WEFT_OK on the loop thread: the operation stopped, and its callback
      // ran (cancelled) inside the call.
      if (s == WEFT_OK && has_callback && !call->called) {
        violated("weft_future_cancel said an operation stopped, but its callback has not run");
      }
    }
  }
}

bool value_none(const weft_value& v, const void*, size_t) { return v.kind == WEFT_VALUE_NONE; }

bool value_bytes(const weft_value& v, const void*, size_t n) {
  return v.kind == WEFT_VALUE_BYTES && v.as.bytes.size == n && (n == 0 || v.as.bytes.data != nullptr);
}

bool value_int64(const weft_value& v, const void*, size_t n) {
  return v.kind == WEFT_VALUE_INT64 && static_cast<uint64_t>(v.as.int64) == n;
}

bool value_pointer(const weft_value& v, const void* expected, size_t) {
  return v.kind == WEFT_VALUE_POINTER && (expected == nullptr || v.as.pointer.pointer == expected);
}

void op_called(Call* call, weft_status status, const char* message,
               bool (*value_ok)(const weft_value&, const void*, size_t), const void* expected, size_t n) {
  called(call);
  if (status == WEFT_OK ? message != nullptr : (message == nullptr || message[0] == '\0')) {
    violated("a callback's message does not follow its status (NULL exactly with WEFT_OK)");
  }
  weft_future_t* f = call->future;
  if (f == nullptr || call->future_taken) return;
  call->future = nullptr;
  weft_status fs = WEFT_OK;
  weft_value fv;
  const char* fm = nullptr;
  const weft_status read = weft_future_result(&fs, &fv, &fm, f);
  if (read != WEFT_OK) {
    std::fprintf(stderr, "weft_future_result: %s; the callback got %s (%s)\n", weft_status_name(read),
                 weft_status_name(status), message != nullptr ? message : "");
    violated("an operation's callback ran before its future completed");
  }
  if (fs != status) violated("an operation's future and callback have different statuses");
  if ((fs == WEFT_OK) != (fm == nullptr)) violated("an operation's future has a message with WEFT_OK");
  if (fs == WEFT_OK && value_ok != nullptr && !value_ok(fv, expected, n)) {
    violated("an operation's future holds another result than its callback got");
  }
  if (fs != WEFT_OK && fv.kind != WEFT_VALUE_NONE) violated("a failed operation's future holds a value");
  if (weft_future_release(f) != WEFT_OK) violated("the Call's reference to its future was gone");
}

void on_plain(void* user, weft_status status, const char* message) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_none);
  act(call);
}

namespace {

void on_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
               const char* message) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (value == nullptr) violated("a future callback got no value");
  if (status == WEFT_OK ? message != nullptr : message == nullptr) {
    violated("a future callback's message does not follow its status");
  }
  // Inside its callback a future's handle is usable, even if every
  // reference was released: retain and release it again.
  if ((call->action & 0x40) && weft_future_retain(future) == WEFT_OK) weft_future_release(future);
  act(call);
}

void on_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_pointer, stream);
  if ((status == WEFT_OK) != (stream != nullptr)) violated("a stream callback's stream and status disagree");
  if (stream != nullptr) call->world->streams.push_back(stream);
  act(call);
}

void on_read(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_bytes, nullptr, len);
  if (status == WEFT_OK && (bytes == nullptr || len == 0)) violated("a read delivered nothing");
  act(call);
}

// The TCP operations (loopback only, on the input's address w.tcp_host;
// connects go to this program's listeners).
void tcp_step(World& w, Input& in, uint8_t op, uint8_t a) {
  switch (op) {
    case 0: {
      weft_tcp_listener_t* listener = nullptr;
      weft_tcp_listen_options options = WEFT_TCP_LISTEN_OPTIONS_INIT;
      // Sometimes too small; never larger than the struct (that would be a
      // lie weft reads past, as any C library would).
      if (a & 1) options.struct_size = in.byte() % (sizeof(options) + 1);
      if (weft_tcp_listen(&listener, w.pick(w.loops, a), w.tcp_host, 0, (a & 2) ? &options : nullptr) ==
          WEFT_OK) {
        w.listeners.push_back(listener);
      }
      break;
    }
    case 1: {
      Call* call = new_call(w, in.byte());
      if (a & 1) {
        made(call, weft_tcp_accept(out_for(call), w.pick(w.listeners, a >> 1), on_stream, call), true,
             kOpTcpAccept);
      } else {
        uint16_t port = 1;  // nothing listens there: refused
        weft_tcp_listener_port(&port, w.pick(w.listeners, a >> 1));
        made(call, weft_tcp_connect(out_for(call), w.pick(w.loops, a >> 1), w.tcp_host, port, WEFT_MS(in.byte()),
                                    on_stream, call),
             true);
      }
      break;
    }
    case 2: {
      static const char text[] = "fuzz";
      weft_stream_t* stream = w.pick(w.streams, a >> 2);
      Call* call = new_call(w, in.byte());
      switch (a & 3) {
        case 0:
          call->max = in.byte();
          made(call, weft_stream_read(out_for(call), stream, call->max, on_read, call), true, kOpRead);
          break;
        case 1: made(call, weft_stream_write(out_for(call), stream, text, in.byte() % 5, on_plain, call), true); break;
        case 2: made(call, weft_stream_shutdown(out_for(call), stream, on_plain, call), true); break;
        default:  // no callback: the future alone, if any
          made(call, weft_stream_write(out_for(call), stream, (a & 4) ? text : nullptr, in.byte() % 5, nullptr, call),
               false);
      }
      break;
    }
    default:
      switch (a % 3) {
        case 0: weft_stream_close(w.pick(w.streams, in.byte())); break;
        case 1: weft_tcp_listener_close(w.pick(w.listeners, in.byte())); break;
        default:  // forged handles
          weft_stream_close(forged<weft_stream_t>(in));
          weft_tcp_listener_close(forged<weft_tcp_listener_t>(in));
      }
  }
}
// The program resolved or rejected `f` itself: weft must have refused that
// for an operation's future (only its operation completes it).
void hand_completed(World& w, weft_future_t* f) {
  if (w.find_op_call(f) != nullptr) violated("an operation's future was completed by hand");
}

// The program retained (+1) or released (-1) `f`: if it is a kept
// operation future whose Call still holds its reference, and the program
// released more than it held, that reference is gone (see Call).
void count_ref(World& w, weft_future_t* f, int delta) {
  Call* call = w.find_op_call(f);
  if (call == nullptr) return;
  call->program_refs += delta;
  if (call->program_refs < 0 && call->future != nullptr) call->future_taken = true;
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
    case 1: {  // a timer: its future NULL, kept, released or cancelled; a callback or none
      Call* call = new_call(w, in.byte());
      const uint64_t delay = WEFT_MS(in.byte());
      const bool with_callback = !(a & 1);
      const weft_status s = weft_loop_call_later(out_for(call), w.pick(w.loops, a), delay,
                                                 with_callback ? on_plain : nullptr, call);
      if (!with_callback && out_mode(call->action) == 0 && s == WEFT_OK) {
        violated("a timer with neither a callback nor a future was armed");
      }
      if (s == WEFT_OK && out_mode(call->action) == 1) w.timers.push_back(call->slot);
      made(call, s, with_callback);
      break;
    }
    case 2: {  // cancels a timer through its future
      const weft_status s = weft_future_cancel(w.pick(w.timers, a));
      if (s != WEFT_OK && s != WEFT_ERR_ALREADY_COMPLETED && s != WEFT_ERR_STALE_HANDLE &&
          s != WEFT_ERR_INVALID_HANDLE) {
        violated("cancelling a timer's future returned a status it does not document");
      }
      break;
    }
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
      weft_future_t* f = w.pick(w.futures, a);
      weft_status s = weft_future_resolve(f, &v);
      if (s == WEFT_OK) hand_completed(w, f);
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
    case 6: {
      weft_future_t* f = w.pick(w.futures, a);
      if (weft_future_reject(f, static_cast<weft_status>(static_cast<int>(in.u64() % 2100) - 2050),
                             (a & 1) ? "fuzzed" : nullptr) == WEFT_OK) {
        hand_completed(w, f);
      }
      break;
    }
    case 7:
      weft_future_cancel(w.pick(w.futures, a));
      break;
    case 8: {
      weft_future_t* f = w.pick(w.futures, a);
      if (weft_future_release(f) == WEFT_OK) {
        w.releases.push_back(f);
        count_ref(w, f, -1);
      }
      break;
    }
    case 9: {
      weft_future_t* f = w.pick(w.futures, a);
      if (weft_future_retain(f) == WEFT_OK) {
        w.futures.push_back(f);
        count_ref(w, f, +1);
      }
      break;
    }
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
      on_pool(call);
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
      weft_future_release(forged<weft_future_t>(in));
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
      // 1 ms, or none: a drain of a scope whose read never completes
      // waits all of it.
      weft_scope_drain(nullptr, w.pick(w.scopes, a), (a & 0x80) ? 1000000 : 0);
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

void run_program(World& w, const uint8_t* data, size_t size) {
  Input in(data, size);
  for (int steps = 0; in.more() && steps < 256; ++steps) step(w, in);
}

}  // namespace capi_fuzz
