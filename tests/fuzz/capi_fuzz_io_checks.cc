// The I/O steps' checks (see capi_fuzz_io.h): callbacks that check their
// arguments against their status, and the misuse step.
#include <signal.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "tests/fuzz/capi_fuzz.h"
#include "tests/fuzz/capi_fuzz_io.h"
#include "weft/weft.h"

namespace capi_fuzz {

void on_stream_read(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_bytes, nullptr, len);
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

// Where every weft_stream_read_into of the program reads (their bytes may
// overlap: only lengths and places are checked).
char g_read_into_memory[64 * 1024];

void* lend_read_memory(void* user, size_t* len) {
  auto* call = static_cast<Call*>(user);
  if (call->max == 0) return nullptr;  // declined: the read fails, nothing taken
  *len = call->max;
  return g_read_into_memory;
}

void on_stream_read_into(void* user, weft_status status, const char* message, const void* bytes,
                         size_t len) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_int64, nullptr, len);
  if (status == WEFT_OK) {
    if (bytes != g_read_into_memory || len == 0) violated("a read_into delivered outside its memory");
    if (len > call->max) violated("a read_into delivered more than its memory holds");
  } else if (bytes != nullptr || len != 0) {
    violated("a failed read_into delivered bytes");
  }
  act(call);
}

void on_pipe_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_pointer, stream);
  if ((status == WEFT_OK) != (stream != nullptr)) violated("a pipe callback's stream and status disagree");
  if (stream != nullptr) call->world->pipe_streams.push_back(stream);
  act(call);
}

bool address_ok(const weft_address& a) {
  return (a.family == WEFT_ADDRESS_IPV4 || a.family == WEFT_ADDRESS_IPV6) &&
         std::memchr(a.host, '\0', sizeof(a.host)) != nullptr && a.host[0] != '\0';
}

namespace {
// A receive's future holds a POINTER to a weft_datagram of the same length.
bool value_datagram(const weft_value& v, const void*, size_t n) {
  if (v.kind != WEFT_VALUE_POINTER || v.as.pointer.pointer == nullptr) return false;
  const auto* d = static_cast<const weft_datagram*>(v.as.pointer.pointer);
  return d->data.size == n && address_ok(d->from);
}

// A lookup's future holds a POINTER to a weft_address_list of as many.
bool value_addresses(const weft_value& v, const void*, size_t n) {
  if (v.kind != WEFT_VALUE_POINTER || v.as.pointer.pointer == nullptr) return false;
  const auto* list = static_cast<const weft_address_list*>(v.as.pointer.pointer);
  return list->count == n && list->addresses != nullptr;
}
}  // namespace

void on_datagram(void* user, weft_status status, const char* message, const void* bytes, size_t len,
                 const weft_address* from, int truncated) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_datagram, nullptr, len);
  if (status == WEFT_OK) {
    if (from == nullptr || !address_ok(*from) || from->port == 0) violated("a datagram came with no sender");
    if (len > 0 && bytes == nullptr) violated("a datagram's bytes are NULL");
    if (len > 65536) violated("a datagram longer than 64 KiB");
  } else if (bytes != nullptr || len != 0 || from != nullptr || truncated != 0) {
    violated("a failed receive delivered a datagram");
  }
  act(call);
}

void on_file(void* user, weft_status status, const char* message, weft_file_t* file) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_pointer, file);
  if ((status == WEFT_OK) != (file != nullptr)) violated("a file callback's file and status disagree");
  if (file != nullptr) call->world->files.push_back(file);
  act(call);
}

void on_file_read(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_bytes, nullptr, len);
  if (status == WEFT_OK) {
    if (len > 0 && bytes == nullptr) violated("a file read's bytes are NULL");
    if (call->max != 0 && len > call->max) violated("a file read delivered more than max");
    if (call->bytes_null_at_end && len == 0 && bytes != nullptr) violated("read_at at the end gave bytes");
  } else if (bytes != nullptr || len != 0) {
    violated("a failed file read delivered bytes");
  }
  act(call);
}

void on_file_size(void* user, weft_status status, const char* message, uint64_t size) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_int64, nullptr, static_cast<size_t>(size));
  if (status != WEFT_OK && size != 0) violated("a failed file operation gave a size");
  if (status == WEFT_OK && call->max != 0 && size != call->exactly) violated("write_at wrote another length");
  act(call);
}

void on_resolved(void* user, weft_status status, const char* message, const weft_address* addresses,
                 size_t count) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_addresses, nullptr, count);
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

void on_signal(void* user, weft_status status, const char* message, int signum) {
  auto* call = static_cast<Call*>(user);
  op_called(call, status, message, value_int64, nullptr, static_cast<size_t>(signum));
  if (status == WEFT_OK ? signum != call->signum : signum != 0) violated("a signal callback got another signal");
  act(call);
}

namespace {

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
    case 8: return w.pick(w.timers, i);  // a future
    case 9: return w.pick(w.futures, i);
    case 10: return w.pick(w.scopes, i);
    case 11: return w.runtime;
    default: return forged<void>(in);
  }
}

}  // namespace

namespace {
// A Call for the misuse step: its future NULL, kept, released or cancelled
// in turn (actions that do nothing else when called).
Call* misuse_call(World& w) {
  static const uint8_t kActions[] = {0, 72, 48, 24};  // out_mode 0, 1, 2, 3
  return new_call(w, kActions[w.calls.size() % 4]);
}
}  // namespace

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

  c = misuse_call(w); c->max = 16; made(c, weft_stream_read(out_for(c), stream, 16, on_stream_read, c), true);
  c = misuse_call(w); c->exactly = 4; made(c, weft_stream_read_exactly(out_for(c), stream, 4, on_stream_read, c), true);
  c = misuse_call(w); c->max = 16;
  made(c, weft_stream_read_into(out_for(c), stream, lend_read_memory, on_stream_read_into, c), true);
  c = misuse_call(w); c->max = 16; c->delimiter = "\n";
  made(c, weft_stream_read_until(out_for(c), stream, "\n", 1, 16, on_stream_read, c), true);
  c = misuse_call(w); made(c, weft_stream_write(out_for(c), stream, kText, 4, on_plain, c), true);
  c = misuse_call(w); made(c, weft_stream_drain(out_for(c), stream, on_plain, c), true);
  weft_stream_write_buffered(&n, stream);
  weft_stream_read_buffered(&n, stream);
  weft_stream_set_limits(stream, nullptr);
  c = misuse_call(w); made(c, weft_stream_shutdown(out_for(c), stream, on_plain, c), true);

  weft_pipe_listener_path(text, sizeof(text), &n, listener);
  c = misuse_call(w); made(c, weft_pipe_accept(out_for(c), listener, on_pipe_stream, c), true);
  weft_stream_t* a = nullptr;
  weft_stream_t* b = nullptr;
  if (weft_pipe_pair(&a, &b, loop) == WEFT_OK) {  // the handle was a loop
    w.pipe_streams.push_back(a);
    w.pipe_streams.push_back(b);
  }
  c = misuse_call(w); made(c, weft_pipe_connect(out_for(c), loop, path_of(0), 0, on_pipe_stream, c), true);
  weft_pipe_listener_t* new_listener = nullptr;
  if (weft_pipe_listen(&new_listener, loop, path_of(3), nullptr) == WEFT_OK) {
    w.pipe_listeners.push_back(new_listener);
  }
  weft_stream_t* opened = nullptr;
  if (weft_pipe_open(&opened, loop, -1) == WEFT_OK) violated("weft_pipe_open took fd -1");

  weft_udp_local_address(&address, udp);
  c = misuse_call(w); made(c, weft_udp_send_to(out_for(c), udp, kText, 4, "127.0.0.1", 9, on_plain, c), true);
  c = misuse_call(w); made(c, weft_udp_recv_from(out_for(c), udp, on_datagram, c), true);
  weft_udp_socket_t* new_udp = nullptr;
  if (weft_udp_bind(&new_udp, loop, "127.0.0.1", 0, nullptr) == WEFT_OK) w.udp_sockets.push_back(new_udp);

  c = misuse_call(w); c->max = 8; made(c, weft_file_read_at(out_for(c), file, 0, 8, on_file_read, c), true);
  c = misuse_call(w); c->max = 1; c->exactly = 4; made(c, weft_file_write_at(out_for(c), file, 0, kText, 4, on_file_size, c), true);
  c = misuse_call(w); made(c, weft_file_size(out_for(c), file, on_file_size, c), true);
  c = misuse_call(w); made(c, weft_file_sync(out_for(c), file, on_plain, c), true);
  c = misuse_call(w); made(c, weft_file_open(out_for(c), loop, path_of(0), WEFT_FILE_READ, nullptr, on_file, c), true);
  c = misuse_call(w); made(c, weft_file_read_all(out_for(c), loop, path_of(1), nullptr, on_file_read, c), true);
  c = misuse_call(w); made(c, weft_file_write_all(out_for(c), loop, path_of(1), kText, 4, nullptr, on_plain, c), true);
  weft_file_options file_options = WEFT_FILE_OPTIONS_INIT;
  file_options.executor = static_cast<weft_executor_t*>(h);
  c = misuse_call(w);
  made(c, weft_file_read_all(out_for(c), w.pick(w.loops, 0), path_of(1), &file_options, on_file_read, c), true);

  weft_resolve_options resolve_options = WEFT_RESOLVE_OPTIONS_INIT;
  resolve_options.executor = static_cast<weft_executor_t*>(h);
  c = misuse_call(w); c->port = 7;
  made(c, weft_resolve(out_for(c), w.root, "127.0.0.1", 7, &resolve_options, on_resolved, c), true);
  c = misuse_call(w); c->port = 7; made(c, weft_resolve(out_for(c), loop, "::1", 7, nullptr, on_resolved, c), true);

  c = misuse_call(w);
  for (size_t i = 0; i < w.signals.size(); ++i) {
    if (w.signals[i] == sig) c->signum = w.signal_numbers[i];
  }
  made(c, weft_signal_wait(out_for(c), sig, on_signal, c), true);
  weft_signal_t* new_signal = nullptr;
  if (weft_signal_watch(&new_signal, loop, SIGUSR2) == WEFT_OK) {
    remember_weft_handler(SIGUSR2);
    w.signals.push_back(new_signal);
    w.signal_numbers.push_back(SIGUSR2);
  }

  int pid = 0;
  weft_process_pid(&pid, process);
  weft_process_stdin(&a, process);
  weft_process_stdout(&a, process);
  weft_process_stderr(&a, process);
  if (weft_process_kill(process, 0) == WEFT_OK) violated("weft_process_kill found a process none spawned");
  c = misuse_call(w);
  made(c,
       weft_process_wait(
           out_for(c), process,
           [](void* user, weft_status status, const char* message, int64_t, int) {
             auto* call = static_cast<Call*>(user);
             op_called(call, status, message);
             act(call);
           },
           c),
       true);

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
  options.cwd = (a & 8) ? temp_dir().c_str() : nullptr;
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

}  // namespace capi_fuzz
