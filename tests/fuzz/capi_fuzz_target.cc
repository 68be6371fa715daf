// A fuzz target that drives weft's C API with random programs.
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
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "weft/weft.h"

extern "C" weft_status fuzz_loop_run_raw(weft_loop_t* loop, int mode);  // raw_enums.c

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "capi fuzz target: invariant violated: %s\n", what);
  std::abort();
}

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

// The program's reader: each take returns 0 once the input is used up.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool more() const { return pos_ < size_; }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t u64() {
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

// One registered callback: what it does when called, and that it was.
struct Call {
  World* world;
  uint8_t action;  // what the callback does inside weft when it runs
  bool called = false;
  // What the I/O callbacks' arguments must agree with (see the on_* below).
  size_t max = 0;         // a read's most bytes (0: not checked)
  size_t exactly = 0;     // read_exactly's n, or write_at's len (0: not checked)
  std::string delimiter;  // read_until's delimiter
  int signum = 0;         // the signal a wait watches
  uint16_t port = 0;      // the port a lookup asked for
  bool bytes_null_at_end = false;  // read_at: len 0 comes with bytes NULL
};

struct World {
  weft_runtime_t* runtime = nullptr;
  weft_loop_t* root = nullptr;
  weft_executor_t* pool = nullptr;
  std::vector<weft_loop_t*> loops;      // root first, then scopes' (stale ones stay)
  std::vector<weft_scope_t*> scopes;    // (stale ones stay)
  std::vector<weft_future_t*> futures;  // (released ones stay)
  std::vector<weft_timer_t*> timers;    // (fired ones stay)
  std::vector<weft_tcp_listener_t*> listeners;  // (closed ones stay)
  std::vector<weft_tcp_stream_t*> streams;      // (closed ones stay)
  // The I/O API's handles (ended ones stay, as stale handles).
  std::vector<weft_stream_t*> pipe_streams;       // pairs, accepted, connected, opened
  std::vector<weft_pipe_listener_t*> pipe_listeners;
  std::vector<weft_udp_socket_t*> udp_sockets;
  std::vector<weft_file_t*> files;
  std::vector<weft_signal_t*> signals;
  std::vector<int> signal_numbers;  // signals[i] watches signal_numbers[i]
  long callbacks_run = 0;           // every callback, for the I/O waits
  std::vector<Call*> calls;             // freed at the end
  std::mutex pointer_mutex;
  long pointers_given = 0;
  long pointers_destroyed = 0;
  int reentry_budget = 64;

  template <class T>
  T pick(const std::vector<T>& from, uint8_t b) {
    return from.empty() ? nullptr : from[b % from.size()];
  }
};

void destroy_pointer(void* p) {
  auto* world = static_cast<World*>(p);
  std::lock_guard<std::mutex> lock(world->pointer_mutex);
  ++world->pointers_destroyed;
}

Call* new_call(World& w, uint8_t action) {
  auto* call = new Call;
  call->world = &w;
  call->action = action;
  w.calls.push_back(call);
  return call;
}

void on_plain(void* user, weft_status status);

void called(Call* call) {
  if (call->called) violated("a callback was called twice");
  call->called = true;
  ++call->world->callbacks_run;
}

void io_act(Call* call);

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

void on_future(void* user, weft_future_t* future, weft_status, const weft_value* value, const char*) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (value == nullptr) violated("a future callback got no value");
  // Inside its callback a future's handle is usable, even if every
  // reference was released: retain and release it again.
  if ((call->action & 0x40) && weft_future_retain(future) == WEFT_OK) weft_future_release(future);
  act(call);
}

template <class H>
H* forged(Input& in) {
  return reinterpret_cast<H*>(static_cast<uintptr_t>(in.u64()));
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

// ---------------------------------------------------------------------------
// The I/O API: streams, pipes, UDP, files, DNS, signals, process misuse.

// Bytes to write: lines, CRLF, a NUL, so that read_until's delimiters occur.
const char kText[] = "line\nfuzz\r\nabc\0def\n\n";
char g_big[1 << 18];  // zeros, for large writes and datagrams

// The temp dir of the file and socket steps: made for each input and
// removed after it (libFuzzer leaves with _Exit, which runs no atexit
// handler), so each input starts from an empty directory.
std::string g_dir;

int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

void remove_temp_dir() {
  if (!g_dir.empty()) nftw(g_dir.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  g_dir.clear();
}

// The names the file and socket steps share: a file may be where a socket
// is asked for, and the other way round.
const char* const kNames[] = {"f0", "f1", "s0", "s1"};
const std::string kLongName(110, 'n');   // a fine file name, too long for a socket path
const std::string kTooLong(300, 't');    // too long for any file name

void prepare_temp_dir() {
  const char* base = std::getenv("TEST_TMPDIR");
  // A socket path has at most WEFT_PIPE_PATH_MAX bytes: leave room under it.
  if (base == nullptr || base[0] == '\0' || std::strlen(base) > 60) base = "/tmp";
  std::string pattern = std::string(base) + "/weft_fuzz_XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) violated("cannot make the temp dir");
  g_dir = buffer.data();
}

// A path for the file and socket steps (NULL too).
const char* path_of(uint8_t b, std::string& storage) {
  switch (b % 10) {
    case 4: storage = g_dir; break;                   // a directory
    case 5: storage = g_dir + "/nodir/x"; break;      // in no directory
    case 6: storage = g_dir + "/" + kLongName; break;
    case 7: storage = g_dir + "/" + kTooLong; break;
    case 8: storage.clear(); break;                   // ""
    case 9: return nullptr;
    default: storage = g_dir + "/" + kNames[b % 4];
  }
  return storage.c_str();
}

// The handler weft installed when it last watched SIGUSR1 / SIGUSR2: a
// signal is raised only while that handler is in place (otherwise its
// default action would end the process).
void* g_weft_handler[2] = {nullptr, nullptr};

void* handler_of(int signum) {
  struct sigaction sa;
  if (sigaction(signum, nullptr, &sa) != 0) return nullptr;
  return reinterpret_cast<void*>(sa.sa_handler);
}

void*& recorded_handler(int signum) { return g_weft_handler[signum == SIGUSR1 ? 0 : 1]; }

bool weft_handles(int signum) {
  void* now = handler_of(signum);
  return now != nullptr && now != reinterpret_cast<void*>(SIG_DFL) && now != reinterpret_cast<void*>(SIG_IGN) &&
         now == recorded_handler(signum);
}

// Marks a call made: a refused call's callback is never called.
void expect(Call* call, weft_status status) {
  if (status != WEFT_OK) call->called = true;
}

void on_stream_read(void* user, weft_status status, const void* bytes, size_t len) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (status == WEFT_OK) {
    if (bytes == nullptr || len == 0) violated("a stream read delivered nothing");
    if (call->max != 0 && len > call->max) violated("a stream read delivered more than max");
    if (call->exactly != 0 && len != call->exactly) violated("read_exactly delivered another length");
    const std::string& d = call->delimiter;
    if (!d.empty() &&
        (len < d.size() || std::memcmp(static_cast<const char*>(bytes) + len - d.size(), d.data(), d.size()) != 0)) {
      violated("read_until delivered bytes that do not end with the delimiter");
    }
  } else if (bytes != nullptr || len != 0) {
    violated("a failed stream read delivered bytes");
  }
  act(call);
}

void on_pipe_stream(void* user, weft_status status, weft_stream_t* stream) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if ((status == WEFT_OK) != (stream != nullptr)) violated("a pipe callback's stream and status disagree");
  if (stream != nullptr) call->world->pipe_streams.push_back(stream);
  act(call);
}

bool address_ok(const weft_address& a) {
  return (a.family == WEFT_ADDRESS_IPV4 || a.family == WEFT_ADDRESS_IPV6) &&
         std::memchr(a.host, '\0', sizeof(a.host)) != nullptr && a.host[0] != '\0';
}

void on_datagram(void* user, weft_status status, const void* bytes, size_t len, const weft_address* from,
                 int truncated) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (status == WEFT_OK) {
    if (from == nullptr || !address_ok(*from) || from->port == 0) violated("a datagram came with no sender");
    if (len > 0 && bytes == nullptr) violated("a datagram's bytes are NULL");
    if (len > 65536) violated("a datagram longer than 64 KiB");
  } else if (bytes != nullptr || len != 0 || from != nullptr || truncated != 0) {
    violated("a failed receive delivered a datagram");
  }
  act(call);
}

void on_file(void* user, weft_status status, weft_file_t* file) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if ((status == WEFT_OK) != (file != nullptr)) violated("a file callback's file and status disagree");
  if (file != nullptr) call->world->files.push_back(file);
  act(call);
}

void on_file_read(void* user, weft_status status, const void* bytes, size_t len) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (status == WEFT_OK) {
    if (len > 0 && bytes == nullptr) violated("a file read's bytes are NULL");
    if (call->max != 0 && len > call->max) violated("a file read delivered more than max");
    if (call->bytes_null_at_end && len == 0 && bytes != nullptr) violated("read_at at the end gave bytes");
  } else if (bytes != nullptr || len != 0) {
    violated("a failed file read delivered bytes");
  }
  act(call);
}

void on_file_size(void* user, weft_status status, uint64_t size) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (status != WEFT_OK && size != 0) violated("a failed file operation gave a size");
  if (status == WEFT_OK && call->max != 0 && size != call->exactly) violated("write_at wrote another length");
  act(call);
}

void on_resolved(void* user, weft_status status, const weft_address* addresses, size_t count) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (status == WEFT_OK) {
    if (addresses == nullptr || count == 0) violated("a lookup succeeded with no address");
    for (size_t i = 0; i < count; ++i) {
      if (!address_ok(addresses[i]) || addresses[i].port != call->port) violated("a lookup gave a bad address");
    }
  } else if (addresses != nullptr || count != 0) {
    violated("a failed lookup gave addresses");
  }
  act(call);
}

void on_signal(void* user, weft_status status, int signum) {
  auto* call = static_cast<Call*>(user);
  called(call);
  if (status == WEFT_OK ? signum != call->signum : signum != 0) violated("a signal callback got another signal");
  act(call);
}

template <class T>
T* pick_at(const std::vector<T*>& from, size_t i) {
  return from.empty() ? nullptr : from[i % from.size()];
}

// Something an I/O callback does when it runs: ends a handle (maybe its
// own), or starts more I/O.
void io_act(Call* call) {
  World& w = *call->world;
  const size_t i = static_cast<size_t>(w.callbacks_run) + call->action;
  switch (call->action & 0xF) {
    case 0: weft_stream_close(pick_at(w.pipe_streams, i)); break;
    case 1: weft_stream_close(weft_tcp_as_stream(pick_at(w.streams, i))); break;
    case 2: weft_udp_close(pick_at(w.udp_sockets, i)); break;
    case 3: weft_file_close(pick_at(w.files, i)); break;
    case 4: weft_signal_close(pick_at(w.signals, i)); break;
    case 5: weft_pipe_listener_close(pick_at(w.pipe_listeners, i)); break;
    case 6: {
      Call* next = new_call(w, 0);
      next->max = 64;
      expect(next, weft_stream_read(pick_at(w.pipe_streams, i), 64, on_stream_read, next));
      break;
    }
    case 7: {
      Call* next = new_call(w, 0);
      expect(next, weft_stream_write(pick_at(w.pipe_streams, i), kText, sizeof(kText), on_plain, next));
      break;
    }
    case 8: {
      Call* next = new_call(w, 0);
      expect(next, weft_udp_recv_from(pick_at(w.udp_sockets, i), on_datagram, next));
      break;
    }
    case 9: {
      Call* next = new_call(w, 0);
      next->max = 16;
      next->bytes_null_at_end = true;
      expect(next, weft_file_read_at(pick_at(w.files, i), 0, 16, on_file_read, next));
      break;
    }
    default:
      break;
  }
}

// A stream handle: mostly pipe streams and TCP streams as streams, sometimes
// a handle of another kind or a forged one.
weft_stream_t* pick_stream(World& w, Input& in) {
  const uint8_t b = in.byte();
  switch (b % 8) {
    case 5:
    case 6:
      return weft_tcp_as_stream(w.pick(w.streams, b >> 3));
    case 7:
      switch ((b >> 3) % 4) {
        case 0: return reinterpret_cast<weft_stream_t*>(w.pick(w.udp_sockets, b >> 5));
        case 1: return reinterpret_cast<weft_stream_t*>(w.pick(w.pipe_listeners, b >> 5));
        case 2: return reinterpret_cast<weft_stream_t*>(w.pick(w.files, b >> 5));
        default: return forged<weft_stream_t>(in);
      }
    default:
      return w.pick(w.pipe_streams, b >> 3);
  }
}

// A read size: 0, small, up to 64 KiB, or at and past the limits.
size_t read_size(Input& in) {
  const uint8_t b = in.byte();
  switch (b % 8) {
    case 0: return 0;
    case 1: return WEFT_STREAM_READ_MAX;
    case 2: return WEFT_STREAM_READ_MAX + 1;
    case 3: return SIZE_MAX;
    case 4: return 1 + in.byte() * 256u + in.byte();
    default: return 1 + in.byte() % 32;
  }
}

// A buffer limit: 0 (the default), small, larger, or the largest.
size_t limit_value(Input& in) {
  const uint8_t b = in.byte();
  switch (b % 4) {
    case 0: return 0;
    case 1: return 1 + b / 4;
    case 2: return in.byte() * 1024u;
    default: return SIZE_MAX;
  }
}

// Bytes to write: (bytes, len), NULL with a length now and then.
const void* write_bytes(Input& in, size_t* len) {
  const uint8_t b = in.byte();
  switch (b % 8) {
    case 0: *len = 1 + in.byte() * 256u; return g_big;  // up to 64 KiB
    case 1: *len = 0; return kText;
    case 2: *len = b >> 3; return nullptr;  // NULL: fine only with len 0
    default: *len = 1 + in.byte() % (sizeof(kText) - 1); return kText;
  }
}

weft_executor_t* pick_executor(World& w, Input& in, uint8_t b) {
  switch (b % 4) {
    case 0: return w.pool;
    case 1: return forged<weft_executor_t>(in);
    default: return nullptr;
  }
}

// A handle of any kind (live, ended or forged), for the misuse step.
void* any_handle(World& w, Input& in) {
  const uint8_t b = in.byte();
  const uint8_t i = in.byte();
  switch (b % 12) {
    case 1: return w.pick(w.pipe_streams, i);
    case 2: return w.pick(w.pipe_listeners, i);
    case 3: return w.pick(w.udp_sockets, i);
    case 4: return w.pick(w.files, i);
    case 5: return w.pick(w.signals, i);
    case 6: return w.pick(w.streams, i);
    case 7: return w.pick(w.listeners, i);
    case 8: return w.pick(w.timers, i);
    case 9: return w.pick(w.futures, i);
    case 10: return w.pick(w.scopes, i);
    case 11: return w.runtime;
    default: return forged<void>(in);
  }
}

// Every function of the I/O API with one handle that is (most likely) not
// of the kind it takes: a forged handle, an ended one, one of another kind.
// A call weft accepts (the handle happened to fit) is an ordinary call.
void misuse_all(World& w, Input& in) {
  void* h = any_handle(w, in);
  auto* stream = static_cast<weft_stream_t*>(h);
  auto* listener = static_cast<weft_pipe_listener_t*>(h);
  auto* udp = static_cast<weft_udp_socket_t*>(h);
  auto* file = static_cast<weft_file_t*>(h);
  auto* sig = static_cast<weft_signal_t*>(h);
  auto* process = static_cast<weft_process_t*>(h);
  auto* loop = static_cast<weft_loop_t*>(h);
  Call* c;
  size_t n = 0;
  weft_address address;
  char text[16];

  c = new_call(w, 0); c->max = 16; expect(c, weft_stream_read(stream, 16, on_stream_read, c));
  c = new_call(w, 0); c->exactly = 4; expect(c, weft_stream_read_exactly(stream, 4, on_stream_read, c));
  c = new_call(w, 0); c->max = 16; c->delimiter = "\n";
  expect(c, weft_stream_read_until(stream, "\n", 1, 16, on_stream_read, c));
  c = new_call(w, 0); expect(c, weft_stream_write(stream, kText, 4, on_plain, c));
  c = new_call(w, 0); expect(c, weft_stream_drain(stream, on_plain, c));
  weft_stream_write_buffered(&n, stream);
  weft_stream_read_buffered(&n, stream);
  weft_stream_set_limits(stream, nullptr);
  c = new_call(w, 0); expect(c, weft_stream_shutdown(stream, on_plain, c));

  weft_pipe_listener_path(text, sizeof(text), &n, listener);
  c = new_call(w, 0); expect(c, weft_pipe_accept(listener, on_pipe_stream, c));
  weft_stream_t* a = nullptr;
  weft_stream_t* b = nullptr;
  if (weft_pipe_pair(&a, &b, loop) == WEFT_OK) {  // the handle was a loop
    w.pipe_streams.push_back(a);
    w.pipe_streams.push_back(b);
  }
  std::string storage;
  c = new_call(w, 0); expect(c, weft_pipe_connect(loop, path_of(0, storage), 0, on_pipe_stream, c));
  weft_pipe_listener_t* new_listener = nullptr;
  if (weft_pipe_listen(&new_listener, loop, path_of(3, storage), nullptr) == WEFT_OK) {
    w.pipe_listeners.push_back(new_listener);
  }
  weft_stream_t* opened = nullptr;
  if (weft_pipe_open(&opened, loop, -1) == WEFT_OK) violated("weft_pipe_open took fd -1");

  weft_udp_local_address(&address, udp);
  c = new_call(w, 0); expect(c, weft_udp_send_to(udp, kText, 4, "127.0.0.1", 9, on_plain, c));
  c = new_call(w, 0); expect(c, weft_udp_recv_from(udp, on_datagram, c));
  weft_udp_socket_t* new_udp = nullptr;
  if (weft_udp_bind(&new_udp, loop, "127.0.0.1", 0, nullptr) == WEFT_OK) w.udp_sockets.push_back(new_udp);

  c = new_call(w, 0); c->max = 8; expect(c, weft_file_read_at(file, 0, 8, on_file_read, c));
  c = new_call(w, 0); c->max = 1; c->exactly = 4; expect(c, weft_file_write_at(file, 0, kText, 4, on_file_size, c));
  c = new_call(w, 0); expect(c, weft_file_size(file, on_file_size, c));
  c = new_call(w, 0); expect(c, weft_file_sync(file, on_plain, c));
  c = new_call(w, 0); expect(c, weft_file_open(loop, path_of(0, storage), WEFT_FILE_READ, nullptr, on_file, c));
  c = new_call(w, 0); expect(c, weft_file_read_all(loop, path_of(1, storage), nullptr, on_file_read, c));
  c = new_call(w, 0); expect(c, weft_file_write_all(loop, path_of(1, storage), kText, 4, nullptr, on_plain, c));
  weft_file_options file_options = WEFT_FILE_OPTIONS_INIT;
  file_options.executor = static_cast<weft_executor_t*>(h);
  c = new_call(w, 0);
  expect(c, weft_file_read_all(w.pick(w.loops, 0), path_of(1, storage), &file_options, on_file_read, c));

  weft_resolve_options resolve_options = WEFT_RESOLVE_OPTIONS_INIT;
  resolve_options.executor = static_cast<weft_executor_t*>(h);
  c = new_call(w, 0); c->port = 7;
  expect(c, weft_resolve(w.root, "127.0.0.1", 7, &resolve_options, on_resolved, c));
  c = new_call(w, 0); c->port = 7; expect(c, weft_resolve(loop, "::1", 7, nullptr, on_resolved, c));

  c = new_call(w, 0);
  for (size_t i = 0; i < w.signals.size(); ++i) {
    if (w.signals[i] == sig) c->signum = w.signal_numbers[i];
  }
  expect(c, weft_signal_wait(sig, on_signal, c));
  weft_signal_t* new_signal = nullptr;
  if (weft_signal_watch(&new_signal, loop, SIGUSR2) == WEFT_OK) {
    recorded_handler(SIGUSR2) = handler_of(SIGUSR2);
    w.signals.push_back(new_signal);
    w.signal_numbers.push_back(SIGUSR2);
  }

  int pid = 0;
  weft_process_pid(&pid, process);
  weft_process_stdin(&a, process);
  weft_process_stdout(&a, process);
  weft_process_stderr(&a, process);
  if (weft_process_kill(process, 0) == WEFT_OK) violated("weft_process_kill found a process none spawned");
  c = new_call(w, 0);
  expect(c, weft_process_wait(process, [](void* user, weft_status, int64_t, int) { on_plain(user, WEFT_OK); }, c));

  // The ends last.
  weft_process_close(process);
  weft_signal_close(sig);
  weft_file_close(file);
  weft_udp_close(udp);
  weft_pipe_listener_close(listener);
  weft_stream_close(stream);
}

// Spawns with options that must fail before anything is started: no
// program (NULL or ""), and more wrong things on top.
void spawn_misuse(World& w, Input& in, uint8_t a) {
  static const char* const args[] = {"true", nullptr};
  static const char* const bad_env[] = {"NO_EQUALS_SIGN", nullptr};
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.file = (a & 1) ? "" : nullptr;  // never a program: nothing may be spawned
  options.args = (a & 2) ? args : nullptr;
  options.env = (a & 4) ? bad_env : nullptr;
  options.cwd = (a & 8) ? g_dir.c_str() : nullptr;
  options.stdin_mode = static_cast<weft_stdio_mode>(in.byte() % 5);  // 3, 4: not a mode
  options.stdout_mode = static_cast<weft_stdio_mode>(in.byte() % 5);
  options.stderr_mode = static_cast<weft_stdio_mode>(in.byte() % 5);
  if (a & 16) options.struct_size = in.byte() % (sizeof(options) + 1);
  weft_process_t* process = nullptr;
  const weft_status s =
      weft_process_spawn((a & 32) ? nullptr : &process, w.pick(w.loops, in.byte()), (a & 64) ? nullptr : &options);
  if (s == WEFT_OK) violated("weft_process_spawn spawned with no program");
  if (process != nullptr) violated("a failed weft_process_spawn wrote *out");
}

void io_step(World& w, Input& in, uint8_t op, uint8_t a) {
  std::string storage;
  switch (op) {
    case 0: {  // weft_pipe_pair
      weft_stream_t* x = nullptr;
      weft_stream_t* y = nullptr;
      weft_loop_t* loop = (a & 0x80) ? forged<weft_loop_t>(in) : w.pick(w.loops, in.byte());
      weft_status s;
      switch (a % 8) {
        case 0: s = weft_pipe_pair(&x, &x, loop); break;
        case 1: s = weft_pipe_pair(nullptr, &y, loop); break;
        case 2: s = weft_pipe_pair(&x, nullptr, loop); break;
        default: s = weft_pipe_pair(&x, &y, loop);
      }
      if (s == WEFT_OK) {
        if (a % 8 < 3) violated("weft_pipe_pair accepted bad out-params");
        if (x == nullptr || y == nullptr || x == y) violated("weft_pipe_pair gave bad streams");
        w.pipe_streams.push_back(x);
        w.pipe_streams.push_back(y);
      }
      break;
    }
    case 1: {  // weft_pipe_listen
      weft_pipe_listen_options options = WEFT_PIPE_LISTEN_OPTIONS_INIT;
      if (a & 1) options.struct_size = in.byte() % (sizeof(options) + 1);
      if (a & 2) options.backlog = static_cast<int8_t>(in.byte());
      const char* path = path_of(in.byte(), storage);
      weft_pipe_listener_t* listener = nullptr;
      if (weft_pipe_listen((a & 0xC0) == 0xC0 ? nullptr : &listener, w.pick(w.loops, in.byte()), path,
                           (a & 4) ? &options : nullptr) == WEFT_OK) {
        w.pipe_listeners.push_back(listener);
      }
      break;
    }
    case 2: {  // weft_pipe_accept
      Call* call = new_call(w, in.byte());
      expect(call, weft_pipe_accept(w.pick(w.pipe_listeners, a >> 1), (a & 1) ? on_pipe_stream : nullptr, call));
      break;
    }
    case 3: {  // weft_pipe_connect: to a listener's path, or a path of the temp dir
      Call* call = new_call(w, in.byte());
      char path[WEFT_PIPE_PATH_MAX + 1] = "";
      const char* to = path_of(in.byte(), storage);
      if ((a & 1) && weft_pipe_listener_path(path, sizeof(path), nullptr, w.pick(w.pipe_listeners, a >> 2)) ==
                         WEFT_OK) {
        to = path;
      }
      expect(call, weft_pipe_connect(w.pick(w.loops, in.byte()), to, in.byte(), (a & 2) ? on_pipe_stream : nullptr,
                                     call));
      break;
    }
    case 4: {  // weft_pipe_listener_path
      char buffer[130];
      std::memset(buffer, 'x', sizeof(buffer));
      const size_t capacity = in.byte() % sizeof(buffer);
      size_t length = SIZE_MAX;
      const bool null_buffer = (a & 3) == 3;
      const weft_status s = weft_pipe_listener_path(null_buffer ? nullptr : buffer, capacity,
                                                    (a & 4) ? nullptr : &length, w.pick(w.pipe_listeners, a >> 3));
      if (s == WEFT_OK && !null_buffer && capacity > 0) {
        const void* nul = std::memchr(buffer, '\0', capacity);
        if (nul == nullptr) violated("weft_pipe_listener_path left the path unterminated");
        if (!(a & 4) && std::strlen(buffer) != (length < capacity - 1 ? length : capacity - 1)) {
          violated("weft_pipe_listener_path's length disagrees with the path");
        }
      }
      if (s == WEFT_OK && null_buffer && capacity > 0) violated("weft_pipe_listener_path wrote to NULL");
      break;
    }
    case 5: {  // weft_pipe_open, weft_pipe_listener_close
      if (a & 1) {
        weft_pipe_listener_close(w.pick(w.pipe_listeners, a >> 1));
        break;
      }
      weft_loop_t* loop = w.pick(w.loops, in.byte());
      int fds[2] = {-1, -1};
      switch ((a >> 1) % 4) {
        case 0: fds[0] = -1 - in.byte(); break;                   // negative
        case 1: fds[0] = 1 << 20; break;                           // not open
        case 2: if (::pipe(fds) != 0) fds[0] = fds[1] = -1; break;  // both ends, as two streams
        default: fds[0] = ::open((g_dir + "/f0").c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);  // a file
      }
      for (int fd : fds) {
        weft_stream_t* stream = nullptr;
        if (weft_pipe_open((a & 0xF0) == 0xF0 ? nullptr : &stream, loop, fd) == WEFT_OK) {
          if (fd < 0 || fd == (1 << 20)) violated("weft_pipe_open took a descriptor that is not open");
          w.pipe_streams.push_back(stream);
        } else if (fd >= 0 && fd != (1 << 20)) {
          ::close(fd);  // refused: still ours
        }
      }
      break;
    }
    case 6: {  // weft_stream_read, weft_stream_read_exactly
      weft_stream_t* stream = pick_stream(w, in);
      Call* call = new_call(w, in.byte());
      const size_t n = read_size(in);
      weft_stream_read_callback callback = (a & 6) == 6 ? nullptr : on_stream_read;
      if (a & 1) {
        call->exactly = n;
        expect(call, weft_stream_read_exactly(stream, n, callback, call));
      } else {
        call->max = n;
        expect(call, weft_stream_read(stream, n, callback, call));
      }
      break;
    }
    case 7: {  // weft_stream_read_until
      weft_stream_t* stream = pick_stream(w, in);
      Call* call = new_call(w, in.byte());
      char delimiter[4];
      const size_t len = in.byte() % 5;  // 0: refused
      for (size_t i = 0; i < len; ++i) {
        delimiter[i] = (a & 1) ? static_cast<char>(in.byte()) : kText[in.byte() % (sizeof(kText) - 1)];
      }
      const size_t max = read_size(in);
      const bool null_delimiter = (a & 6) == 6;
      call->max = max;
      if (!null_delimiter) call->delimiter.assign(delimiter, len);
      expect(call, weft_stream_read_until(stream, null_delimiter ? nullptr : delimiter, len, max,
                                          (a & 24) == 24 ? nullptr : on_stream_read, call));
      break;
    }
    case 8: {  // weft_stream_write
      weft_stream_t* stream = pick_stream(w, in);
      Call* call = new_call(w, in.byte());
      size_t len = 0;
      const void* bytes = write_bytes(in, &len);
      if (a & 1) {
        weft_stream_write(stream, bytes, len, nullptr, nullptr);
        call->called = true;  // no callback to expect
      } else {
        expect(call, weft_stream_write(stream, bytes, len, on_plain, call));
      }
      break;
    }
    case 9: {  // weft_stream_drain, weft_stream_write_buffered, weft_stream_read_buffered
      weft_stream_t* stream = pick_stream(w, in);
      size_t n = 0;
      switch (a % 4) {
        case 0: weft_stream_write_buffered((a & 4) ? nullptr : &n, stream); break;
        case 1: weft_stream_read_buffered((a & 4) ? nullptr : &n, stream); break;
        default: {
          Call* call = new_call(w, in.byte());
          expect(call, weft_stream_drain(stream, (a & 4) ? nullptr : on_plain, call));
        }
      }
      break;
    }
    case 10: {  // weft_stream_set_limits
      weft_stream_t* stream = pick_stream(w, in);
      weft_stream_limits limits = WEFT_STREAM_LIMITS_INIT;
      if (a & 1) limits.struct_size = in.byte() % (sizeof(limits) + 1);
      limits.read_high_water = limit_value(in);
      limits.write_high_water = limit_value(in);
      limits.write_low_water = limit_value(in);
      weft_stream_set_limits(stream, (a & 6) == 6 ? nullptr : &limits);
      break;
    }
    case 11: {  // weft_stream_shutdown
      weft_stream_t* stream = pick_stream(w, in);
      Call* call = new_call(w, in.byte());
      if (a & 1) {
        weft_stream_shutdown(stream, nullptr, nullptr);
        call->called = true;
      } else {
        expect(call, weft_stream_shutdown(stream, on_plain, call));
      }
      break;
    }
    case 12:  // weft_stream_close (pipe and TCP streams)
      weft_stream_close(pick_stream(w, in));
      break;
    case 13: {  // weft_udp_bind (loopback; port 0, or another socket's port)
      weft_udp_bind_options options = WEFT_UDP_BIND_OPTIONS_INIT;
      if (a & 1) options.struct_size = in.byte() % (sizeof(options) + 1);
      options.reuse_address = (a >> 1) & 1;
      options.ipv6_only = (a >> 2) & 1;
      if (a & 8) options.max_queued = in.byte() % 4;
      const char* host = "127.0.0.1";
      const uint8_t b = in.byte();
      switch (b % 8) {
        case 5: host = "::1"; break;
        case 6: host = (b & 8) ? "localhost" : "";  // not numeric
        break;
        case 7: host = nullptr; break;
        default: break;
      }
      uint16_t port = 0;
      weft_address bound;
      if ((a & 16) && weft_udp_local_address(&bound, w.pick(w.udp_sockets, in.byte())) == WEFT_OK) port = bound.port;
      weft_udp_socket_t* socket = nullptr;
      if (weft_udp_bind((a & 0xC0) == 0xC0 ? nullptr : &socket, w.pick(w.loops, in.byte()), host, port,
                        (a & 32) ? &options : nullptr) == WEFT_OK) {
        w.udp_sockets.push_back(socket);
      }
      break;
    }
    case 14: {  // weft_udp_send_to: to one of the program's sockets
      weft_udp_socket_t* from = w.pick(w.udp_sockets, in.byte());
      weft_address to;
      std::strcpy(to.host, "127.0.0.1");
      to.port = 0;  // no socket: port 0 (refused or failed)
      weft_udp_local_address(&to, w.pick(w.udp_sockets, in.byte()));
      const char* host = to.host;
      const uint8_t b = in.byte();
      if (b % 8 == 6) host = "localhost";  // not numeric: refused
      if (b % 8 == 7) host = nullptr;
      size_t len = 0;
      const void* bytes = write_bytes(in, &len);
      if ((b >> 3) % 8 == 1) {
        bytes = g_big;
        len = 70000;  // over loopback's datagram limit
      } else if ((b >> 3) % 8 == 2) {
        len = static_cast<size_t>(UINT_MAX) + 1;  // refused before a byte is read
      }
      Call* call = new_call(w, in.byte());
      if (a & 1) {
        weft_udp_send_to(from, bytes, len, host, to.port, nullptr, nullptr);
        call->called = true;
      } else {
        expect(call, weft_udp_send_to(from, bytes, len, host, to.port, on_plain, call));
      }
      break;
    }
    case 15: {  // weft_udp_recv_from
      Call* call = new_call(w, in.byte());
      expect(call, weft_udp_recv_from(w.pick(w.udp_sockets, a >> 1), (a & 1) ? nullptr : on_datagram, call));
      break;
    }
    case 16: {  // weft_udp_local_address, weft_udp_close
      weft_udp_socket_t* socket = w.pick(w.udp_sockets, a >> 2);
      if (a & 1) {
        weft_udp_close(socket);
      } else {
        weft_address address;
        if (weft_udp_local_address((a & 2) ? nullptr : &address, socket) == WEFT_OK &&
            (!address_ok(address) || address.port == 0)) {
          violated("weft_udp_local_address gave a bad address");
        }
      }
      break;
    }
    case 17: {  // weft_file_open
      const char* path = path_of(in.byte(), storage);
      uint32_t mode = in.byte() & 0x3F;
      if ((a & 3) == 3) mode |= 1u << (in.byte() % 32);  // maybe an unknown bit
      weft_file_options options = WEFT_FILE_OPTIONS_INIT;
      if (a & 4) options.struct_size = in.byte() % (sizeof(options) + 1);
      if (a & 8) options.permissions = (a & 3) == 2 ? 010000 : 0600;
      options.executor = pick_executor(w, in, in.byte());
      Call* call = new_call(w, in.byte());
      expect(call, weft_file_open(w.pick(w.loops, in.byte()), path, mode, (a & 16) ? nullptr : &options,
                                  (a & 0xE0) == 0xE0 ? nullptr : on_file, call));
      break;
    }
    case 18: {  // weft_file_read_at
      weft_file_t* file = w.pick(w.files, in.byte());
      uint64_t offset;
      switch (a % 4) {
        case 0: offset = in.byte(); break;
        case 1: offset = in.byte() * 256u; break;
        case 2: offset = static_cast<uint64_t>(INT64_MAX) + (a >> 7);  // the largest, and one past
        break;
        default: offset = 0;
      }
      const size_t max = (a & 4) ? 0 : 1 + in.byte() * 64u;  // 0: refused
      Call* call = new_call(w, in.byte());
      call->max = max;
      call->bytes_null_at_end = true;
      expect(call, weft_file_read_at(file, offset, max, (a & 0x78) == 0x78 ? nullptr : on_file_read, call));
      break;
    }
    case 19: {  // weft_file_write_at
      weft_file_t* file = w.pick(w.files, in.byte());
      uint64_t offset;
      switch (a % 4) {
        case 0: offset = in.byte(); break;
        case 1: offset = in.byte() * 256u; break;
        case 2: offset = static_cast<uint64_t>(INT64_MAX) + (a >> 7);  // the largest, and one past
        break;
        default: offset = 0;
      }
      size_t len = 0;
      const void* bytes = write_bytes(in, &len);
      Call* call = new_call(w, in.byte());
      call->max = 1;  // check the size written
      call->exactly = len;
      if (a & 4) {
        weft_file_write_at(file, offset, bytes, len, nullptr, nullptr);
        call->called = true;
      } else {
        expect(call, weft_file_write_at(file, offset, bytes, len, on_file_size, call));
      }
      break;
    }
    case 20: {  // weft_file_size, weft_file_sync
      weft_file_t* file = w.pick(w.files, in.byte());
      Call* call = new_call(w, in.byte());
      switch (a % 4) {
        case 0: expect(call, weft_file_size(file, on_file_size, call)); break;
        case 1: expect(call, weft_file_size(file, nullptr, call)); break;
        case 2: expect(call, weft_file_sync(file, on_plain, call)); break;
        default:
          weft_file_sync(file, nullptr, nullptr);
          call->called = true;
      }
      break;
    }
    case 21:  // weft_file_close
      weft_file_close(w.pick(w.files, a));
      break;
    case 22: {  // weft_file_read_all, weft_file_write_all
      const char* path = path_of(in.byte(), storage);
      weft_file_options options = WEFT_FILE_OPTIONS_INIT;
      if (a & 2) options.struct_size = in.byte() % (sizeof(options) + 1);
      if (a & 4) options.permissions = 0600;
      options.executor = pick_executor(w, in, in.byte());
      weft_loop_t* loop = w.pick(w.loops, in.byte());
      Call* call = new_call(w, in.byte());
      weft_file_options* o = (a & 8) ? nullptr : &options;
      if (a & 1) {
        expect(call, weft_file_read_all(loop, path, o, (a & 0x30) == 0x30 ? nullptr : on_file_read, call));
      } else {
        size_t len = 0;
        const void* bytes = write_bytes(in, &len);
        if ((a & 0x30) == 0x30) {
          weft_file_write_all(loop, path, bytes, len, o, nullptr, nullptr);
          call->called = true;
        } else {
          expect(call, weft_file_write_all(loop, path, bytes, len, o, on_plain, call));
        }
      }
      break;
    }
    case 23: {  // weft_resolve: "localhost" (IPv4 or any) and numeric hosts only
      const uint8_t b = in.byte();
      const char* host;
      bool numeric = true;
      switch (b % 6) {
        case 0: host = "localhost"; numeric = false; break;
        case 1: host = "127.0.0.1"; break;
        case 2: host = "::1"; break;
        case 3: host = "::ffff:127.0.0.1"; break;
        case 4: host = ""; break;  // refused
        default: host = nullptr;   // refused
      }
      weft_resolve_options options = WEFT_RESOLVE_OPTIONS_INIT;
      if (a & 1) options.struct_size = in.byte() % (sizeof(options) + 1);
      switch ((b >> 3) % 4) {
        // "localhost" as IPv6 could ask a DNS server (/etc/hosts may name
        // it only as 127.0.0.1): never.
        case 0: options.family = numeric ? WEFT_RESOLVE_IPV6 : WEFT_RESOLVE_IPV4; break;
        case 1: options.family = WEFT_RESOLVE_IPV4; break;
        case 2: options.family = static_cast<weft_resolve_family>(5 + in.byte()); break;  // refused
        default: options.family = WEFT_RESOLVE_ANY;
      }
      switch ((b >> 5) % 4) {
        case 0: options.socktype = WEFT_RESOLVE_DATAGRAM; break;
        case 1: options.socktype = static_cast<weft_resolve_socktype>(2 + in.byte()); break;  // refused
        default: options.socktype = WEFT_RESOLVE_STREAM;
      }
      options.executor = pick_executor(w, in, a >> 1);
      // A struct too small to hold the family leaves it at the default
      // (any): for "localhost" keep the struct whole.
      if (!numeric) options.struct_size = sizeof(options);
      const uint16_t port = static_cast<uint16_t>(in.byte() << 8 | in.byte());
      Call* call = new_call(w, in.byte());
      call->port = port;
      expect(call, weft_resolve(w.pick(w.loops, in.byte()), host, port, (a & 8) ? nullptr : &options,
                                (a & 0x30) == 0x30 ? nullptr : on_resolved, call));
      break;
    }
    case 24: {  // weft_signal_watch: SIGUSR1, SIGUSR2, or no signal one may watch
      int signum;
      const uint8_t b = in.byte();
      switch (b % 8) {
        case 0: case 1: case 2: signum = SIGUSR1; break;
        case 3: case 4: signum = SIGUSR2; break;
        case 5: signum = 0; break;
        case 6: signum = (b & 8) ? SIGKILL : SIGSTOP; break;
        default: signum = (b & 8) ? NSIG : -static_cast<int>(in.byte()) - 1;
      }
      weft_signal_t* handle = nullptr;
      const weft_status s = weft_signal_watch((a & 0xF0) == 0xF0 ? nullptr : &handle, w.pick(w.loops, a), signum);
      if (s == WEFT_OK) {
        if (signum != SIGUSR1 && signum != SIGUSR2) violated("weft_signal_watch took a bad signal number");
        recorded_handler(signum) = handler_of(signum);
        w.signals.push_back(handle);
        w.signal_numbers.push_back(signum);
      }
      break;
    }
    case 25: {  // weft_signal_wait
      Call* call = new_call(w, in.byte());
      weft_signal_t* handle = nullptr;
      if (!w.signals.empty()) {
        const size_t i = a % w.signals.size();
        handle = w.signals[i];
        call->signum = w.signal_numbers[i];
      }
      expect(call, weft_signal_wait(handle, (a & 0xE0) == 0xE0 ? nullptr : on_signal, call));
      break;
    }
    case 26: {  // raise SIGUSR1 or SIGUSR2 while weft's handler is in place
      const int signum = (a & 1) ? SIGUSR2 : SIGUSR1;
      if (weft_handles(signum)) ::raise(signum);
      break;
    }
    case 27: {  // weft_signal_close; weft_signal_shutdown refused (never a SIGINT/SIGTERM watch)
      if (a & 1) {
        weft_signal_close(w.pick(w.signals, a >> 1));
      } else {
        Call* call = new_call(w, in.byte());
        if (weft_signal_shutdown(nullptr, w.pick(w.loops, a >> 1), on_signal, call) == WEFT_OK) {
          violated("weft_signal_shutdown took a NULL out");
        }
        call->called = true;
      }
      break;
    }
    case 28:
      spawn_misuse(w, in, a);
      break;
    case 29:
    case 30:
      misuse_all(w, in);
      break;
    default: {  // let the I/O in flight complete: NOWAIT runs, a few milliseconds at most
      const long before = w.callbacks_run;
      for (int i = 0; i <= a % 8; ++i) {
        weft_loop_run(w.root, WEFT_RUN_NOWAIT);
        if (w.callbacks_run != before) break;
        ::usleep(200);
      }
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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
