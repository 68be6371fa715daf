// A fuzz target for weft_stream_read_until's framing over a real stream:
// bytes written in random chunks into one end of a weft_pipe_pair, read
// from the other with random delimiters (1..4 bytes, any bytes) and limits,
// the loop run between chunks so that reads see the bytes arrive in pieces.
// Runs on the fuzzer's thread (the runtime's loop thread); one runtime is
// kept across inputs, each input has its own scope and stream pair, and the
// allocator must hold as many blocks after an input as before it.
//
// Input: a sequence of steps, each an opcode byte and its bytes:
//   0: write a chunk (a length byte, then that many bytes of the input);
//   1: read_until (a byte: delimiter length 1..4 and the delimiter bytes,
//      then a byte: max 1..256), if no read is pending;
//   2: run the loop once without waiting.
// At the end the writer shuts down and reads go on until one fails.
//
// Each read's outcome must be what a plain model of the bytes says, whatever
// the chunking: with `rest` the bytes not yet taken (all that was ever
// written, once the writer shut down) and `at` the first delimiter in it,
//   at + len(delimiter) <= max  ->  WEFT_OK with rest[0, at + len) (taken);
//   else at found or len(rest) >= max  ->  WEFT_ERR_MESSAGE_TOO_LONG;
//   else  ->  WEFT_ERR_END_OF_FILE (nothing taken either way).
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "weft/weft.h"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "read_until fuzz target: invariant violated: %s\n", what);
  std::abort();
}

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

long live_blocks(Tracking& t) {
  std::lock_guard<std::mutex> lock(t.mutex);
  return t.live;
}

// One read_until and what came of it.
struct Read {
  std::string delimiter;
  size_t max = 0;
  bool done = false;
  weft_status status = WEFT_OK;
  std::string bytes;
};

struct Session {
  Tracking tracking;
  weft_runtime_t* runtime = nullptr;
  weft_loop_t* root = nullptr;
  long blocks_between = 0;
};

Session& session() {
  static Session* s = [] {
    auto* s = new Session;
    weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
    options.threads = 1;
    options.allocator = weft_allocator{track_alloc, track_free, &s->tracking};
    if (weft_runtime_create(&s->runtime, &options) != WEFT_OK) violated("no runtime");
    weft_runtime_loop(&s->root, s->runtime);
    return s;
  }();
  return *s;
}

void on_read(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  auto* read = static_cast<Read*>(user);
  if (read->done) violated("a read's callback ran twice");
  if ((status == WEFT_OK) != (message == nullptr)) violated("a read's message does not follow its status");
  read->done = true;
  read->status = status;
  if (status == WEFT_OK) read->bytes.assign(static_cast<const char*>(bytes), len);
}

void on_written(void*, weft_status status, const char*) {
  if (status != WEFT_OK) violated("a write to the stream pair failed");
}

// Runs the loop until `done` holds; a violation after 10 s.
template <class Done>
void run_until(Session& s, Done done, const char* what) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int fd = -1;
  weft_loop_backend_fd(&fd, s.root);
  while (weft_loop_run(s.root, WEFT_RUN_NOWAIT) == WEFT_OK && !done()) {
    if (std::chrono::steady_clock::now() > limit) violated(what);
    struct pollfd readable = {fd, POLLIN, 0};
    ::poll(&readable, 1, 1);
  }
}

// The model's outcome for `read` given the bytes not yet taken.
void check(const Read& read, std::string& rest) {
  const size_t at = rest.find(read.delimiter);
  const size_t dlen = read.delimiter.size();
  if (at != std::string::npos && at + dlen <= read.max) {
    if (read.status != WEFT_OK) {
      std::fprintf(stderr, "read_until(delimiter of %zu bytes, max %zu) got %s; the delimiter is at %zu of %zu bytes\n",
                   dlen, read.max, weft_status_name(read.status), at, rest.size());
      violated("a read_until failed where the delimiter was within max");
    }
    if (read.bytes != rest.substr(0, at + dlen)) violated("a read_until gave other bytes than up to the first delimiter");
    rest.erase(0, at + dlen);
    return;
  }
  const weft_status expected =
      (at != std::string::npos || rest.size() >= read.max) ? WEFT_ERR_MESSAGE_TOO_LONG : WEFT_ERR_END_OF_FILE;
  if (read.status != expected) {
    std::fprintf(stderr, "expected %s, got %s\n", weft_status_name(expected), weft_status_name(read.status));
    violated("a read_until's failure is not what the bytes say");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Session& s = session();
  weft_scope_t* scope = nullptr;
  weft_loop_t* loop = nullptr;
  if (weft_scope_create(&scope, s.runtime, "input") != WEFT_OK) violated("no scope");
  weft_scope_loop(&loop, scope);
  weft_stream_t* writer = nullptr;
  weft_stream_t* reader = nullptr;
  if (weft_pipe_pair(&writer, &reader, loop) != WEFT_OK) violated("no stream pair");

  std::vector<Read*> reads;
  std::string written;
  Read* pending = nullptr;
  size_t pos = 0;
  auto byte = [&]() -> uint8_t { return pos < size ? data[pos++] : 0; };
  auto start_read = [&](std::string delimiter, size_t max) {
    auto* read = new Read{std::move(delimiter), max};
    reads.push_back(read);
    if (weft_stream_read_until(nullptr, reader, read->delimiter.data(), read->delimiter.size(), max, on_read, read) !=
        WEFT_OK) {
      violated("a valid read_until was refused");
    }
    pending = read;
  };
  for (int steps = 0; pos < size && steps < 512; ++steps) {
    if (pending != nullptr && pending->done) pending = nullptr;
    switch (byte() % 3) {
      case 0: {
        const size_t wanted = byte() % 64;  // read first: it moves pos
        const size_t len = std::min<size_t>(wanted, size - pos);
        if (len == 0) break;
        written.append(reinterpret_cast<const char*>(data + pos), len);
        if (weft_stream_write(nullptr, writer, data + pos, len, on_written, nullptr) != WEFT_OK) violated("a write failed");
        pos += len;
        break;
      }
      case 1: {
        if (pending != nullptr) break;
        const size_t dlen = 1 + byte() % 4;
        std::string delimiter;
        for (size_t i = 0; i < dlen; ++i) delimiter.push_back(static_cast<char>(byte()));
        start_read(std::move(delimiter), 1 + byte());
        break;
      }
      default:
        weft_loop_run(s.root, WEFT_RUN_NOWAIT);
    }
  }
  // The end: the writer shuts down; reads go on until one fails (each
  // read that succeeds takes a byte at least).
  if (weft_stream_shutdown(nullptr, writer, nullptr, nullptr) != WEFT_OK) violated("the writer did not shut down");
  for (size_t more = 0;; ++more) {
    if (pending != nullptr) {
      run_until(s, [&] { return pending->done; }, "a read_until did not complete within 10 s");
      if (pending->status != WEFT_OK) break;
    }
    if (more > written.size()) violated("reads went on after the stream's end");
    start_read(std::string(1, '\n'), 256);
  }

  std::string rest = written;
  for (const Read* read : reads) {
    if (!read->done) violated("a read_until never completed");
    check(*read, rest);
  }
  for (Read* read : reads) delete read;

  weft_stream_close(writer);
  weft_stream_close(reader);
  if (weft_scope_destroy(scope) != WEFT_OK) violated("the input's scope was not destroyed");
  run_until(s, [&] { return live_blocks(s.tracking) <= s.blocks_between || s.blocks_between == 0; },
            "the runtime's allocator holds more blocks after an input than before it");
  if (s.blocks_between == 0) s.blocks_between = live_blocks(s.tracking);
  if (live_blocks(s.tracking) != s.blocks_between) violated("the runtime's allocator holds other blocks than before");
  return 0;
}
