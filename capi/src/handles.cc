#include "capi/src/handles.h"

#include <new>

namespace weft::capi {

namespace detail {
std::atomic<Chunk*> g_chunks[kMaxChunks];
}  // namespace detail

namespace {

using detail::Chunk;
using detail::g_chunks;
using detail::kMaxChunks;
using detail::kSlotsPerChunk;
using detail::Slot;

// Chunks not held by any arena, and the next never-used directory index.
// Chunks are allocated once and never freed (stale handles may still point
// into them), so their generations keep counting across arenas.
std::mutex g_directory_mutex;
std::vector<std::uint32_t>* g_spare_chunks = nullptr;  // guarded; never freed
std::uint32_t g_next_chunk = 0;                         // guarded

std::uint32_t take_chunk() {
  std::lock_guard<std::mutex> lock(g_directory_mutex);
  if (g_spare_chunks != nullptr && !g_spare_chunks->empty()) {
    std::uint32_t c = g_spare_chunks->back();
    g_spare_chunks->pop_back();
    return c;
  }
  if (g_next_chunk >= kMaxChunks) throw std::bad_alloc();
  Chunk* chunk = new Chunk();
  const std::uint32_t c = g_next_chunk++;
  g_chunks[c].store(chunk, std::memory_order_release);
  return c;
}

void give_back_chunks(const std::vector<std::uint32_t>& chunks) noexcept {
  std::lock_guard<std::mutex> lock(g_directory_mutex);
  try {
    if (g_spare_chunks == nullptr) g_spare_chunks = new std::vector<std::uint32_t>();
    g_spare_chunks->insert(g_spare_chunks->end(), chunks.begin(), chunks.end());
  } catch (...) {
    // Out of memory: the chunks stay allocated and unused; handles into them
    // still check as stale. Nothing else to do.
  }
}

Slot& slot_at(std::uint32_t index) noexcept {
  return g_chunks[index / kSlotsPerChunk].load(std::memory_order_relaxed)->slots[index % kSlotsPerChunk];
}

// On the remote free stack, a free slot's `object` holds the next index + 1.
std::uint32_t next_of(const Slot& slot) noexcept {
  return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(slot.object.load(std::memory_order_relaxed)));
}

// The next generation after `g`, skipping 0 (which no handle ever carries).
std::uint32_t next_generation(std::uint32_t g) noexcept { return g + 1 == 0 ? 1 : g + 1; }

}  // namespace

const char* kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::none: return "nothing";
    case Kind::runtime: return "weft_runtime_t";
    case Kind::loop: return "weft_loop_t";
    case Kind::scope: return "weft_scope_t";
    case Kind::future: return "weft_future_t";
    case Kind::executor: return "weft_executor_t";
    case Kind::tcp_listener: return "weft_tcp_listener_t";
    case Kind::tcp_stream: return "weft_stream_t (TCP)";
    case Kind::pipe_listener: return "weft_pipe_listener_t";
    case Kind::pipe_stream: return "weft_stream_t";
    case Kind::udp_socket: return "weft_udp_socket_t";
    case Kind::file: return "weft_file_t";
    case Kind::signal_watcher: return "weft_signal_t";
    case Kind::process: return "weft_process_t";
    case Kind::fd_watch: return "weft_fd_watch_t";
    case Kind::tls_context: return "weft_tls_context_t";
    case Kind::tls_stream: return "weft_stream_t (TLS)";
  }
  return "unknown";
}

HandleArena::~HandleArena() {
  for (std::uint32_t c : chunks_) {
    Chunk* chunk = g_chunks[c].load(std::memory_order_acquire);
    for (Slot& slot : chunk->slots) {
      if (slot.kind.load(std::memory_order_relaxed) != Kind::none) {
        slot.kind.store(Kind::none, std::memory_order_relaxed);
        slot.object.store(nullptr, std::memory_order_relaxed);
        slot.generation.store(next_generation(slot.generation.load(std::memory_order_relaxed)),
                              std::memory_order_release);
      }
    }
  }
  give_back_chunks(chunks_);
}

void HandleArena::grow_locked(std::vector<std::uint32_t>& into) {
  chunks_.reserve(chunks_.size() + 1);
  into.reserve(into.size() + kSlotsPerChunk);
  const std::uint32_t c = take_chunk();
  chunks_.push_back(c);
  total_slots_.store(chunks_.size() * kSlotsPerChunk, std::memory_order_relaxed);
  // Pushed in reverse so that pops hand out ascending indices.
  for (std::uint32_t i = kSlotsPerChunk; i-- > 0;) into.push_back(c * kSlotsPerChunk + i);
}

std::uint32_t HandleArena::pop_local() noexcept {
  if (local_free_.empty()) {
    // Take over everything other threads freed, in one exchange.
    std::uint32_t top = remote_free_.exchange(0, std::memory_order_acquire);
    while (top != 0) {
      const std::uint32_t index = top - 1;
      top = next_of(slot_at(index));
      local_free_.push_back(index);  // capacity: see add()
    }
  }
  if (local_free_.empty()) return UINT32_MAX;
  const std::uint32_t index = local_free_.back();
  local_free_.pop_back();
  return index;
}

std::uint32_t HandleArena::pop_shared() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Room for every slot of the arena, so that taking the stack cannot fail
  // half-way.
  shared_free_.reserve(total_slots_.load(std::memory_order_relaxed));
  if (shared_free_.empty()) {
    std::uint32_t top = remote_free_.exchange(0, std::memory_order_acquire);
    while (top != 0) {
      const std::uint32_t index = top - 1;
      top = next_of(slot_at(index));
      shared_free_.push_back(index);
    }
  }
  if (shared_free_.empty()) grow_locked(shared_free_);
  const std::uint32_t index = shared_free_.back();
  shared_free_.pop_back();
  return index;
}

HandleBits HandleArena::add(Kind kind, void* object) {
  std::uint32_t index;
  if (on_owner_thread()) {
    // Room for every slot of the arena, so that pop_local (noexcept) never
    // allocates when it takes over the slots other threads freed.
    local_free_.reserve(total_slots_.load(std::memory_order_relaxed));
    index = pop_local();
    if (index == UINT32_MAX) {
      std::lock_guard<std::mutex> lock(mutex_);
      grow_locked(local_free_);
      index = local_free_.back();
      local_free_.pop_back();
    }
  } else {
    index = pop_shared();
  }
  Slot& slot = slot_at(index);
  slot.object.store(object, std::memory_order_relaxed);
  slot.kind.store(kind, std::memory_order_release);
  return (static_cast<HandleBits>(slot.generation.load(std::memory_order_relaxed)) << 32) | index;
}

void HandleArena::remove(HandleBits bits) noexcept {
  const std::uint32_t index = static_cast<std::uint32_t>(bits);
  Slot& slot = slot_at(index);
  slot.kind.store(Kind::none, std::memory_order_relaxed);
  slot.object.store(nullptr, std::memory_order_relaxed);
  slot.generation.store(next_generation(static_cast<std::uint32_t>(bits >> 32)),
                        std::memory_order_release);
  if (on_owner_thread() && local_free_.size() < local_free_.capacity()) {
    local_free_.push_back(index);
    return;
  }
  // Another thread (or no room without allocating): push onto the stack.
  // Push-only with a consumer that takes the whole stack has no ABA problem.
  std::uint32_t top = remote_free_.load(std::memory_order_relaxed);
  do {
    slot.object.store(reinterpret_cast<void*>(static_cast<std::uintptr_t>(top)), std::memory_order_relaxed);
  } while (!remote_free_.compare_exchange_weak(top, index + 1, std::memory_order_release,
                                               std::memory_order_relaxed));
}

HandleArena& process_arena() noexcept {
  // Runtimes are created and destroyed from any thread: no owner fast path.
  static HandleArena* arena = new HandleArena();
  return *arena;
}

}  // namespace weft::capi
