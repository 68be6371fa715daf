// The C API fuzz target's I/O steps (opcodes 224..255 of
// capi_fuzz_target.cc): streams (TCP streams, socket
// pairs, Unix domain sockets, pipes from pipe(2)), UDP between the
// program's own sockets, files in a temp dir emptied after each input,
// weft_resolve of "localhost" and numeric hosts, SIGUSR1/SIGUSR2 watched
// and raised, weft_process_spawn calls that fail before spawning, and every
// I/O function called with handles of the wrong kind, ended or forged. Its
// callbacks check that their arguments agree with their status (and with
// the operation's future, if the program kept it: see made() and
// op_called()), and some end I/O handles (maybe their own) or start more
// I/O (io_act). Every operation's `out` is NULL or not by its Call's action
// byte; weft_future_cancel on kept futures cancels one read, receive or
// accept.
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tests/fuzz/capi_fuzz.h"
#include "tests/fuzz/capi_fuzz_io.h"
#include "weft/weft.h"

namespace capi_fuzz {
namespace {

char g_big[1 << 18];  // zeros, for large writes and datagrams

// The temp dir of the file and socket steps (g_dir_fd: it open): made
// once, and emptied after each input that was given a path in it, so each
// input starts from an empty directory. It stays when the process ends
// (libFuzzer leaves with _Exit, which runs no atexit handler): point
// TEST_TMPDIR at a directory that is removed later.
std::string g_dir;
int g_dir_fd = -1;
bool g_dir_given = false;  // a path in it went to the program since it was emptied

// The paths path_of gives, made once (weft copies what it keeps of one):
// f0, f1, s0, s1, the dir itself, one in no directory, a name too long for
// a socket path, a name too long for any file.
std::string g_paths[8];

int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

// The names the file and socket steps share: a file may be where a socket
// is asked for, and the other way round.
const char* const kNames[] = {"f0", "f1", "s0", "s1"};
const std::string kLongName(110, 'n');   // a fine file name, too long for a socket path
const std::string kTooLong(300, 't');    // too long for any file name

template <class T>
T* pick_at(const std::vector<T*>& from, size_t i) {
  return from.empty() ? nullptr : from[i % from.size()];
}

// A stream handle: mostly pipe streams and TCP streams, sometimes
// a handle of another kind or a forged one.
weft_stream_t* pick_stream(World& w, Input& in) {
  const uint8_t b = in.byte();
  switch (b % 8) {
    case 5:
    case 6:
      return w.pick(w.streams, b >> 3);
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

}  // namespace

// A path for the file and socket steps (NULL too).
CAPI_FUZZ_BOOKKEEPING const char* path_of(uint8_t b) {
  g_dir_given = true;
  switch (b % 10) {
    case 8: return "";
    case 9: return nullptr;
    default: return g_paths[b % 10 < 4 ? b % 4 : b % 10].c_str();
  }
}

CAPI_FUZZ_BOOKKEEPING void empty_temp_dir() {
  if (!g_dir_given) return;
  g_dir_given = false;
  const bool listed = list_directory(g_dir_fd, [](const char* name) {
    if (::unlinkat(g_dir_fd, name, 0) == 0) return;
    const std::string path = g_dir + "/" + name;
    if (nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) violated("cannot empty the temp dir");
  });
  if (!listed) violated("cannot list the temp dir");
}

const std::string& temp_dir() {
  g_dir_given = true;
  return g_dir;
}

void prepare_temp_dir() {
  if (!g_dir.empty()) return;
  const char* base = std::getenv("TEST_TMPDIR");
  // A socket path has at most WEFT_PIPE_PATH_MAX bytes: leave room under it.
  if (base == nullptr || base[0] == '\0' || std::strlen(base) > 60) base = "/tmp";
  std::string pattern = std::string(base) + "/weft_fuzz_XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) violated("cannot make the temp dir");
  g_dir = buffer.data();
  g_dir_fd = ::open(g_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (g_dir_fd < 0) violated("cannot open the temp dir");
  for (int i = 0; i < 4; ++i) g_paths[i] = g_dir + "/" + kNames[i];
  g_paths[4] = g_dir;
  g_paths[5] = g_dir + "/nodir/x";
  g_paths[6] = g_dir + "/" + kLongName;
  g_paths[7] = g_dir + "/" + kTooLong;
}

// Something an I/O callback does when it runs: ends a handle (maybe its
// own), or starts more I/O.
void io_act(Call* call) {
  World& w = *call->world;
  const size_t i = static_cast<size_t>(w.callbacks_run) + call->action;
  switch (call->action & 0xF) {
    case 0: weft_stream_close(pick_at(w.pipe_streams, i)); break;
    case 1: weft_stream_close(pick_at(w.streams, i)); break;
    case 2: weft_udp_close(pick_at(w.udp_sockets, i)); break;
    case 3: weft_file_close(pick_at(w.files, i)); break;
    case 4: weft_signal_close(pick_at(w.signals, i)); break;
    case 5: weft_pipe_listener_close(pick_at(w.pipe_listeners, i)); break;
    case 6: {
      Call* next = new_call(w, 0);
      next->max = 64;
      made(next, weft_stream_read(nullptr, pick_at(w.pipe_streams, i), 64, on_stream_read, next), true);
      break;
    }
    case 7: {
      Call* next = new_call(w, 0);
      made(next, weft_stream_write(nullptr, pick_at(w.pipe_streams, i), kText, sizeof(kText), on_plain, next), true);
      break;
    }
    case 8: {
      Call* next = new_call(w, 0);
      made(next, weft_udp_recv_from(nullptr, pick_at(w.udp_sockets, i), on_datagram, next), true);
      break;
    }
    case 9: {
      Call* next = new_call(w, 0);
      next->max = 16;
      next->bytes_null_at_end = true;
      made(next, weft_file_read_at(nullptr, pick_at(w.files, i), 0, 16, on_file_read, next), true);
      break;
    }
    default:
      break;
  }
}

namespace {
void io_step_body(World& w, Input& in, uint8_t op, uint8_t a);
}  // namespace

void io_step(World& w, Input& in, uint8_t op, uint8_t a) {
  const size_t calls_before = w.calls.size();
  io_step_body(w, in, op, a);
  if (op >= 17 && op <= 23) {  // files and DNS complete on a pool thread
    for (size_t i = calls_before; i < w.calls.size(); ++i) on_pool(w.calls[i]);
  }
}

namespace {

void io_step_body(World& w, Input& in, uint8_t op, uint8_t a) {
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
      const char* path = path_of(in.byte());
      weft_pipe_listener_t* listener = nullptr;
      if (weft_pipe_listen((a & 0xC0) == 0xC0 ? nullptr : &listener, w.pick(w.loops, in.byte()), path,
                           (a & 4) ? &options : nullptr) == WEFT_OK) {
        w.pipe_listeners.push_back(listener);
      }
      break;
    }
    case 2: {  // weft_pipe_accept
      Call* call = new_call(w, in.byte());
      made(call,
           weft_pipe_accept(out_for(call), w.pick(w.pipe_listeners, a >> 1), (a & 1) ? on_pipe_stream : nullptr, call),
           a & 1, kOpPipeAccept);
      break;
    }
    case 3: {  // weft_pipe_connect: to a listener's path, or a path of the temp dir
      Call* call = new_call(w, in.byte());
      char path[WEFT_PIPE_PATH_MAX + 1] = "";
      const char* to = path_of(in.byte());
      if ((a & 1) && weft_pipe_listener_path(path, sizeof(path), nullptr, w.pick(w.pipe_listeners, a >> 2)) ==
                         WEFT_OK) {
        to = path;
      }
      weft_loop_t* loop = w.pick(w.loops, in.byte());
      made(call,
           weft_pipe_connect(out_for(call), loop, to, WEFT_MS(in.byte()), (a & 2) ? on_pipe_stream : nullptr, call),
           a & 2);
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
        default: fds[0] = ::open(path_of(0), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);  // a file (f0)
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
    case 6: {  // weft_stream_read, weft_stream_read_exactly, weft_stream_read_into
      weft_stream_t* stream = pick_stream(w, in);
      Call* call = new_call(w, in.byte());
      const size_t n = read_size(in);
      weft_bytes_callback callback = (a & 6) == 6 ? nullptr : on_stream_read;
      if ((a & 9) == 9) {  // into memory of 0 (declined), or 1..64 KiB
        call->max = std::min<size_t>(n > WEFT_STREAM_READ_MAX ? 0 : n, 64 * 1024);
        weft_stream_memory_callback memory = (a & 16) ? nullptr : lend_read_memory;
        made(call,
             weft_stream_read_into(out_for(call), stream, memory, callback ? on_stream_read_into : nullptr, call),
             callback != nullptr, kOpRead);
      } else if (a & 1) {
        call->exactly = n;
        made(call, weft_stream_read_exactly(out_for(call), stream, n, callback, call), callback != nullptr, kOpRead);
      } else {
        call->max = n;
        made(call, weft_stream_read(out_for(call), stream, n, callback, call), callback != nullptr, kOpRead);
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
      made(call,
           weft_stream_read_until(out_for(call), stream, null_delimiter ? nullptr : delimiter, len, max,
                                  (a & 24) == 24 ? nullptr : on_stream_read, call),
           (a & 24) != 24, kOpRead);
      break;
    }
    case 8: {  // weft_stream_write
      weft_stream_t* stream = pick_stream(w, in);
      Call* call = new_call(w, in.byte());
      size_t len = 0;
      const void* bytes = write_bytes(in, &len);
      made(call, weft_stream_write(out_for(call), stream, bytes, len, (a & 1) ? nullptr : on_plain, call), !(a & 1));
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
          made(call, weft_stream_drain(out_for(call), stream, (a & 4) ? nullptr : on_plain, call), !(a & 4));
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
      made(call, weft_stream_shutdown(out_for(call), stream, (a & 1) ? nullptr : on_plain, call), !(a & 1));
      break;
    }
    case 12: {  // weft_stream_close; cancelling one read, receive or accept through its future
      weft_status s = WEFT_OK;
      switch (a % 5) {
        case 0: s = weft_future_cancel(w.pick(w.op_futures[kOpRead], in.byte())); break;
        case 1: s = weft_future_cancel(w.pick(w.op_futures[kOpRecv], a >> 3)); break;
        case 2: s = weft_future_cancel(w.pick(w.op_futures[kOpPipeAccept], a >> 3)); break;
        case 3: s = weft_future_cancel(w.pick(w.op_futures[kOpTcpAccept], a >> 3)); break;
        default: weft_stream_close(pick_stream(w, in)); break;
      }
      if (s != WEFT_OK && s != WEFT_ERR_ALREADY_COMPLETED && s != WEFT_ERR_INVALID_HANDLE &&
          s != WEFT_ERR_STALE_HANDLE) {
        violated("weft_future_cancel returned a status it does not document");
      }
      break;
    }
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
      made(call, weft_udp_send_to(out_for(call), from, bytes, len, host, to.port, (a & 1) ? nullptr : on_plain, call),
           !(a & 1));
      break;
    }
    case 15: {  // weft_udp_recv_from
      Call* call = new_call(w, in.byte());
      made(call, weft_udp_recv_from(out_for(call), w.pick(w.udp_sockets, a >> 1), (a & 1) ? nullptr : on_datagram, call),
           !(a & 1), kOpRecv);
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
      const char* path = path_of(in.byte());
      uint32_t mode = in.byte() & 0x3F;
      if ((a & 3) == 3) mode |= 1u << (in.byte() % 32);  // maybe an unknown bit
      weft_file_options options = WEFT_FILE_OPTIONS_INIT;
      if (a & 4) options.struct_size = in.byte() % (sizeof(options) + 1);
      if (a & 8) options.permissions = (a & 3) == 2 ? 010000 : 0600;
      options.executor = pick_executor(w, in, in.byte());
      Call* call = new_call(w, in.byte());
      weft_loop_t* loop = w.pick(w.loops, in.byte());
      made(call,
           weft_file_open(out_for(call), loop, path, mode, (a & 16) ? nullptr : &options,
                          (a & 0xE0) == 0xE0 ? nullptr : on_file, call),
           (a & 0xE0) != 0xE0);
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
      made(call, weft_file_read_at(out_for(call), file, offset, max, (a & 0x78) == 0x78 ? nullptr : on_file_read, call),
           (a & 0x78) != 0x78);
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
      made(call, weft_file_write_at(out_for(call), file, offset, bytes, len, (a & 4) ? nullptr : on_file_size, call),
           !(a & 4));
      break;
    }
    case 20: {  // weft_file_size, weft_file_sync
      weft_file_t* file = w.pick(w.files, in.byte());
      Call* call = new_call(w, in.byte());
      switch (a % 4) {
        case 0: made(call, weft_file_size(out_for(call), file, on_file_size, call), true); break;
        case 1: made(call, weft_file_size(out_for(call), file, nullptr, call), false); break;
        case 2: made(call, weft_file_sync(out_for(call), file, on_plain, call), true); break;
        default: made(call, weft_file_sync(out_for(call), file, nullptr, call), false);
      }
      break;
    }
    case 21:  // weft_file_close
      weft_file_close(w.pick(w.files, a));
      break;
    case 22: {  // weft_file_read_all, weft_file_write_all
      const char* path = path_of(in.byte());
      weft_file_options options = WEFT_FILE_OPTIONS_INIT;
      if (a & 2) options.struct_size = in.byte() % (sizeof(options) + 1);
      if (a & 4) options.permissions = 0600;
      options.executor = pick_executor(w, in, in.byte());
      weft_loop_t* loop = w.pick(w.loops, in.byte());
      Call* call = new_call(w, in.byte());
      weft_file_options* o = (a & 8) ? nullptr : &options;
      if (a & 1) {
        made(call, weft_file_read_all(out_for(call), loop, path, o, (a & 0x30) == 0x30 ? nullptr : on_file_read, call),
             (a & 0x30) != 0x30);
      } else {
        size_t len = 0;
        const void* bytes = write_bytes(in, &len);
        made(call,
             weft_file_write_all(out_for(call), loop, path, bytes, len, o, (a & 0x30) == 0x30 ? nullptr : on_plain,
                                 call),
             (a & 0x30) != 0x30);
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
      weft_loop_t* loop = w.pick(w.loops, in.byte());
      made(call,
           weft_resolve(out_for(call), loop, host, port, (a & 8) ? nullptr : &options,
                        (a & 0x30) == 0x30 ? nullptr : on_resolved, call),
           (a & 0x30) != 0x30);
      break;
    }
    case 24:
    case 25:
    case 26:
    case 27:
      signal_step(w, in, op, a);
      break;
    case 28:
      spawn_misuse(w, in, a);
      break;
    case 29:
    case 30:
      misuse_all(w, in);
      break;
    default: {  // let the I/O in flight complete: a few short waits at most
      // Loopback I/O is ready when the loop runs; only what a pool thread
      // completes (files, DNS, work) is worth waiting for: on the loop's
      // backend fd, which the pool's completions make readable, at most
      // 50 us a time.
      const long before = w.callbacks_run;
      int fd = -1;
      weft_loop_backend_fd(&fd, w.root);
      for (int i = 0; i <= a % 8; ++i) {
        weft_loop_run(w.root, WEFT_RUN_NOWAIT);
        if (w.callbacks_run != before || !pool_calls_pending(w)) break;
        struct pollfd readable = {fd, POLLIN, 0};
        const struct timespec slice = {0, 50000};
        ::ppoll(&readable, 1, &slice, nullptr);
      }
    }
  }
}

}  // namespace
}  // namespace capi_fuzz
