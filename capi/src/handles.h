// weft::capi handles: the opaque pointers the C API hands out, and the table
// that checks them.
//
// A handle is not an address. Its bits are (generation << 32) | index: the
// index names a slot in a process-wide table, and the slot holds the object,
// its kind and the generation it is at. Freeing an object bumps its slot's
// generation, so every old handle to it fails the check from then on
// (WEFT_ERR_STALE_HANDLE) while the slot itself stays readable: table chunks
// are never freed, so checking even a long-dead handle reads valid memory.
// A handle is never 0 (generations start at 1), so NULL is never valid.
//
// Why process-wide: a handle must be checked before the runtime it belongs to
// is known, and after that runtime is gone. The table holds no configuration
// and no runtime state; its chunks come from malloc (not from a runtime's
// allocator, since they outlive runtimes) and stay reachable until exit.
//
// Slots are handed out by arenas. Each runtime has one (the process has one
// more, for runtime handles); destroying an arena invalidates every slot it
// still holds and gives its chunks back for the next arena, generations
// intact. An arena allocates and frees without locks on its owner thread
// (the runtime's loop thread): the owner keeps a private free list; other
// threads free onto a lock-free stack the owner takes over in one exchange,
// and allocate under the arena's mutex.
//
// Races: checking a handle on one thread while another frees its object is a
// race the table cannot make safe (the object may be freed after the check).
// The C API documents it as the caller's bug, like every C library.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace weft::capi {

enum class Kind : std::uint8_t {
  none = 0,
  runtime,
  loop,
  scope,
  future,
  executor,
  tcp_listener,
  tcp_stream,
  pipe_listener,
  pipe_stream,
  udp_socket,
  file,
  signal_watcher,
  process,
  fd_watch,
  tls_context,
  tls_stream,
};

const char* kind_name(Kind kind) noexcept;

using HandleBits = std::uintptr_t;
static_assert(sizeof(HandleBits) == 8, "weft's C handles need 64-bit pointers");

inline HandleBits handle_bits(const void* handle) noexcept {
  return reinterpret_cast<HandleBits>(handle);
}
template <class H>
H* as_handle(HandleBits bits) noexcept {
  return reinterpret_cast<H*>(bits);
}

namespace detail {

// 16 bytes. While the slot is free, `object` holds the index + 1 of the next
// free slot on the arena's remote stack (0: none).
struct Slot {
  std::atomic<std::uint32_t> generation{1};
  std::atomic<Kind> kind{Kind::none};
  std::atomic<void*> object{nullptr};
};
static_assert(sizeof(Slot) == 16);

inline constexpr std::uint32_t kSlotsPerChunk = 1024;
inline constexpr std::uint32_t kMaxChunks = 65536;  // 67M live handles

struct Chunk {
  Slot slots[kSlotsPerChunk];
};

// The directory of chunks, indexed by handle index / kSlotsPerChunk.
extern std::atomic<Chunk*> g_chunks[kMaxChunks];

}  // namespace detail

// The handle of a live object from its slot's index alone: the generation
// does not change until the slot is freed (HandleArena::remove), so an object
// that keeps only its index can rebuild its handle while it is registered.
inline HandleBits live_handle(std::uint32_t index) noexcept {
  const detail::Chunk* chunk =
      detail::g_chunks[index / detail::kSlotsPerChunk].load(std::memory_order_relaxed);
  const std::uint32_t generation =
      chunk->slots[index % detail::kSlotsPerChunk].generation.load(std::memory_order_relaxed);
  return (static_cast<HandleBits>(generation) << 32) | index;
}

// What a failed check found.
enum class HandleError { none, null, not_a_handle, stale, wrong_kind };

// Looks `handle` up. Returns the object if the handle is live and of `kind`;
// otherwise nullptr and the reason in `error`. Any thread; lock-free.
inline void* lookup_handle(const void* handle, Kind kind, HandleError& error) noexcept {
  const HandleBits bits = handle_bits(handle);
  if (bits == 0) {
    error = HandleError::null;
    return nullptr;
  }
  const std::uint32_t index = static_cast<std::uint32_t>(bits);
  const std::uint32_t generation = static_cast<std::uint32_t>(bits >> 32);
  const std::uint32_t chunk_index = index / detail::kSlotsPerChunk;
  detail::Chunk* chunk =
      chunk_index < detail::kMaxChunks ? detail::g_chunks[chunk_index].load(std::memory_order_acquire)
                                       : nullptr;
  if (chunk == nullptr || generation == 0) {
    error = HandleError::not_a_handle;
    return nullptr;
  }
  detail::Slot& slot = chunk->slots[index % detail::kSlotsPerChunk];
  if (slot.generation.load(std::memory_order_acquire) != generation) {
    error = HandleError::stale;
    return nullptr;
  }
  if (slot.kind.load(std::memory_order_relaxed) != kind) {
    error = HandleError::wrong_kind;
    return nullptr;
  }
  return slot.object.load(std::memory_order_relaxed);
}

class HandleArena {
 public:
  // `is_owner` tells whether the calling thread is the arena's owner (the
  // loop thread); nullptr: no owner, every call takes the shared path.
  using OwnerCheck = bool (*)(const void* context) noexcept;
  HandleArena(OwnerCheck is_owner = nullptr, const void* context = nullptr) noexcept
      : is_owner_(is_owner), owner_context_(context) {}
  // Invalidates every handle still live and returns the chunks.
  ~HandleArena();
  HandleArena(const HandleArena&) = delete;
  HandleArena& operator=(const HandleArena&) = delete;

  // A new handle for `object`. Throws std::bad_alloc if the table is full or
  // a chunk cannot be allocated. Any thread.
  HandleBits add(Kind kind, void* object);

  // Invalidates `bits` (which must be live and from this arena) and frees its
  // slot. Any thread.
  void remove(HandleBits bits) noexcept;

  // Calls f(Kind, void* object, HandleBits) for every live handle. Only while
  // no other thread adds or removes.
  template <class F>
  void for_each_live(F&& f) const;

 private:
  bool on_owner_thread() const noexcept { return is_owner_ != nullptr && is_owner_(owner_context_); }
  std::uint32_t pop_local() noexcept;
  std::uint32_t pop_shared();
  void grow_locked(std::vector<std::uint32_t>& into);

  OwnerCheck is_owner_;
  const void* owner_context_;

  // Owner thread only.
  std::vector<std::uint32_t> local_free_;

  // Freed by other threads: a stack of slot indices (+1), taken whole by the
  // owner (or by pop_shared) with one exchange.
  std::atomic<std::uint32_t> remote_free_{0};

  mutable std::mutex mutex_;
  std::vector<std::uint32_t> shared_free_;  // guarded by mutex_
  std::vector<std::uint32_t> chunks_;       // guarded by mutex_
  std::atomic<std::size_t> total_slots_{0};  // slots in chunks_ (written under mutex_)
};

template <class F>
void HandleArena::for_each_live(F&& f) const {
  // One chunk index at a time under the lock (chunks_ only grows): no copy,
  // so teardown, which calls this, allocates nothing.
  for (std::size_t n = 0;; ++n) {
    std::uint32_t c;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (n >= chunks_.size()) break;
      c = chunks_[n];
    }
    detail::Chunk* chunk = detail::g_chunks[c].load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < detail::kSlotsPerChunk; ++i) {
      detail::Slot& slot = chunk->slots[i];
      Kind kind = slot.kind.load(std::memory_order_acquire);
      if (kind == Kind::none) continue;
      const std::uint32_t index = c * detail::kSlotsPerChunk + i;
      const HandleBits bits =
          (static_cast<HandleBits>(slot.generation.load(std::memory_order_relaxed)) << 32) | index;
      f(kind, slot.object.load(std::memory_order_relaxed), bits);
    }
  }
}

// The arena for runtime handles (owned by no thread). Never destroyed.
HandleArena& process_arena() noexcept;

}  // namespace weft::capi
