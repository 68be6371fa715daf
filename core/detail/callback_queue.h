// weft::detail::CallbackQueue: the loop's FIFO of ready callbacks, stored as
// variable-size records in chunks of bytes.
//
// A record is an ops pointer followed by the callable itself, rounded up to 8
// bytes: a callback capturing one pointer takes 16 bytes, not a 64-byte slot,
// so a burst of a million callbacks touches a quarter of the memory. Callables
// larger than kMaxInlineBytes (or over-aligned, or throwing on move) are boxed.
// Records are never moved once written; emptied chunks are kept on a short
// spare list, so a steady-state queue allocates nothing.
//
// Word records: an object that already exists and knows how to run itself
// (a QueuedObject: a spawned task's first step; a TabledObject: a future's
// state whose continuation is due), and a coroutine to resume
// (ResumeCoroutine, what a task's yield or wake-up queues), are queued by
// their address alone, tagged in the header word's low three bits: 8 bytes
// instead of an ops pointer plus a callable.
//
// Every record's header word says how long the record is: a word record is
// the word alone, and a callable record's word is the address of its ops
// table with the record's size in the low bits (ops tables are 32-byte
// aligned). So running a burst finds the next record from the header alone.
// Through the ops table the next record's position would depend on two loads
// in a row, and a burst of tiny callbacks would be bound by that chain rather
// than by the calls; run_batch() goes further and only checks a guessed
// position against the header (see there).
//
// run_front() and run_batch() invoke the front record in place and move past
// it afterwards, so a callback may post more callbacks (even into the same
// chunk) while it runs: the write position only rewinds when the read position
// has caught up with it, which cannot happen while a record is running.
//
// Reservations: code that must queue a callback from a path that cannot fail
// (a future's continuation when the future completes, a timer when it
// fires) reserves room for it beforehand with reserve_units(), which
// allocates whatever chunk that needs (and may throw std::bad_alloc while
// nothing has changed yet); emplace_reserved() then never allocates, and
// release_units() gives back a reservation that will not be used. Room is
// counted in units of kUnitBytes: every append keeps the free units (in the
// tail chunk's rest and the spare chunks) at least the reserved ones. A
// record of r bytes reserves 2*ceil(r/16)-1 units: what it takes from the
// tail chunk, or, when it does not fit there, the tail's lost rest (less
// than the record) and what it takes from a fresh chunk.
//
// Not thread-safe: owned and used by the loop thread only.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "core/detail/queued_object.h"

namespace weft::detail {

// Resumes a coroutine; call_soon(ResumeCoroutine{h}) takes an 8-byte word
// record (see above) instead of a 16-byte callable record.
struct ResumeCoroutine {
  std::coroutine_handle<> handle;
  void operator()() const { handle.resume(); }
};

class CallbackQueue {
 public:
  // A chunk (with its two header words) stays under 64 KiB: freeing blocks of
  // 64 KiB or more makes glibc consolidate its fast bins every time.
  static constexpr std::size_t kChunkBytes = 64 * 1024 - 64;
  static constexpr std::size_t kMaxInlineBytes = 120;
  // Reservations count room in units of this many bytes.
  static constexpr std::size_t kUnitBytes = 16;

  CallbackQueue() = default;
  CallbackQueue(const CallbackQueue&) = delete;
  CallbackQueue& operator=(const CallbackQueue&) = delete;
  ~CallbackQueue();

  bool empty() const noexcept { return posted_ == started_; }
  // Records posted and not yet started.
  std::size_t size() const noexcept { return posted_ - started_; }
  std::size_t reserved_units() const noexcept { return reserved_; }

  // The units one later emplace_reserved() of a callable of type D needs.
  template <class D>
  static constexpr std::size_t units_for() noexcept {
    return 2 * ((record_size(sizeof(D)) + kUnitBytes - 1) / kUnitBytes) - 1;
  }

  // Reserves `n` units (see units_for). Throws std::bad_alloc, with nothing
  // reserved, if a chunk cannot be allocated.
  void reserve_units(std::size_t n);
  // Gives back `n` reserved units that will not be used.
  void release_units(std::size_t n) noexcept { reserved_ -= n; }

  // The units one later emplace_object_reserved() needs: an 8-byte record
  // reserves 2*ceil(8/16)-1 (see Reservations above).
  static constexpr std::size_t kObjectUnits = 1;

  // Appends an object record (see the header comment): `object` is run or
  // dropped once, in order with the other records. May throw
  // std::bad_alloc (nothing is queued then).
  void emplace_object(QueuedObject* object) {
    emplace_word(reinterpret_cast<std::uintptr_t>(object) | kWordTag);
  }
  void emplace_object(TabledObject* object) {
    emplace_word(reinterpret_cast<std::uintptr_t>(object) | kWordTag | kTabledTag);
  }
  // emplace_object into room reserved earlier (kObjectUnits are used up):
  // allocates nothing and cannot fail.
  void emplace_object_reserved(QueuedObject* object) noexcept {
    emplace_word_reserved(reinterpret_cast<std::uintptr_t>(object) | kWordTag);
  }
  void emplace_object_reserved(TabledObject* object) noexcept {
    emplace_word_reserved(reinterpret_cast<std::uintptr_t>(object) | kWordTag | kTabledTag);
  }

  // Appends `f` into room reserved earlier (units_for<D>() units are used
  // up): allocates nothing and cannot fail.
  template <class F>
  void emplace_reserved(F&& f) noexcept {
    using D = std::decay_t<F>;
    static_assert(sizeof(D) <= kMaxInlineBytes && alignof(D) <= kAlign &&
                  std::is_nothrow_move_constructible_v<D> &&
                  std::is_nothrow_constructible_v<D, F&&>);
    constexpr std::size_t size = record_size(sizeof(D));
    if (tail_ != nullptr && head_ == tail_ && head_offset_ == tail_->used) rewind();
    // The invariant guarantees a spare chunk when the tail has no room.
    if (tail_ == nullptr || tail_->used + size > kChunkBytes) take_spare_chunk();
    unsigned char* at = tail_->bytes + tail_->used;
    ::new (at) Header{ops_word(&inline_ops<D>)};
    ::new (at + kHeader) D(std::forward<F>(f));
    tail_->used += size;
    ++posted_;
    reserved_ -= units_for<D>();
  }

  template <class F>
  void emplace_back(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (std::is_same_v<D, ResumeCoroutine>) {
      // A frame address has its low bits free (frames hold pointers); any
      // other address takes the callable record below.
      const auto address = reinterpret_cast<std::uintptr_t>(f.handle.address());
      if ((address & kTagMask) == 0) {
        emplace_word(address | kWordTag | kCoroutineTag);
        return;
      }
    }
    if constexpr (sizeof(D) <= kMaxInlineBytes && alignof(D) <= kAlign &&
                  std::is_nothrow_move_constructible_v<D>) {
      void* storage = reserve(&inline_ops<D>);
      ::new (storage) D(std::forward<F>(f));
    } else {
      std::unique_ptr<D> boxed(new D(std::forward<F>(f)));
      void* storage = reserve(&boxed_ops<D>);  // may throw: boxed is freed
      ::new (storage) D*(boxed.release());
    }
    commit();
  }

  // Appends `f` only if it is stored inline and fits the current chunk, so
  // nothing is allocated and nothing throws; false: use emplace_back. For
  // callers with a no-throw fast path (the C API's call_soon).
  template <class F>
  bool try_emplace_back(F&& f) noexcept {
    using D = std::decay_t<F>;
    static_assert(sizeof(D) <= kMaxInlineBytes && alignof(D) <= kAlign &&
                  std::is_nothrow_move_constructible_v<D>);
    constexpr std::size_t size = record_size(sizeof(D));
    if (tail_ != nullptr && head_ == tail_ && head_offset_ == tail_->used) rewind();
    if (tail_ == nullptr || tail_->used + size > kChunkBytes) [[unlikely]] return false;
    if (reserved_ != 0 && free_slots_after(size) < reserved_) [[unlikely]] return false;
    unsigned char* at = tail_->bytes + tail_->used;
    ::new (at) Header{ops_word(&inline_ops<D>)};
    ::new (at + kHeader) D(std::forward<F>(f));
    tail_->used += size;
    ++posted_;
    return true;
  }

  // Runs the front callback and pops it (also when it throws).
  void run_front() {
    Header* header = front_header();
    // The record counts as started before it runs; the read position moves
    // past it only once it has finished.
    ++started_;
    const std::uintptr_t word = header->word;
    struct Advance {
      std::size_t* offset;
      std::size_t size;
      ~Advance() { *offset += size; }
    } advance{&head_offset_, size_of(word)};
    run_record(header, word);
  }

  // Runs front records, as run_front() would one by one, until `ran` reaches
  // `max`, the queue is empty, or `stop` reads true after a record; `ran`
  // counts every record started. A record that throws has been popped and
  // counted when the exception propagates.
  //
  // The loop that owns the queue is not re-entrant, so nothing else moves the
  // read position meanwhile: it is kept in a register and stored when the
  // batch leaves a chunk or returns. Until then the stored position lags
  // behind the running record, which only keeps a callback's post from
  // rewinding the chunk (as it must not while a record in it runs). The count
  // of records started is kept in a register too and stored before each
  // record runs (a callback may read size()); nothing in the run loop reads
  // either back from memory.
  void run_batch(std::size_t& ran, std::size_t max, const std::atomic<bool>& stop) {
    if (ran >= max) return;
    // `ran` follows started_ from here on, and is brought up to date on the
    // way out.
    struct Count {
      std::size_t* out;
      const std::size_t* started;
      std::size_t base;
      ~Count() { *out = base + *started; }
    } count{&ran, &started_, ran - started_};
    const std::size_t limit = started_ + (max - ran);
    std::size_t started = started_;
    std::size_t step = record_size(sizeof(void*));  // a one-pointer callable's
    while (started != limit && started != posted_) {
      if (head_offset_ == head_->used && head_ != tail_) next_head_chunk();
      Chunk* const chunk = head_;
      struct Advance {
        std::size_t* offset;
        Chunk* chunk;
        unsigned char* at;
        ~Advance() { *offset = static_cast<std::size_t>(at - chunk->bytes); }
      } advance{&head_offset_, chunk, chunk->bytes + head_offset_};
      do {
        Header* header = std::launder(reinterpret_cast<Header*>(advance.at));
        const std::uintptr_t word = header->word;
        // The next record's position is this one's plus its size, read from
        // the header just loaded: one load after another, every record
        // waiting for the last. So the step is guessed to be the last
        // record's (a burst is mostly records of one kind), and the header
        // only checks the guess: the next record's load starts from the
        // guessed position while the check's branch is predicted, and a
        // wrong guess costs a mispredicted branch. The empty asm keeps the
        // compiler from seeing that the two paths agree and folding the
        // branch back into the header's size.
        const std::size_t size = size_of(word);
        if (size != step) [[unlikely]] {
          step = size;
        } else {
          asm volatile("" : "+r"(step));
        }
        advance.at += step;
        started_ = ++started;
        run_record(header, word);
        if (stop.load(std::memory_order_relaxed)) return;
      } while (started != limit && advance.at != chunk->bytes + chunk->used);
    }
  }
  // Destroys the front callback unrun and pops it.
  void pop_front() noexcept;
  // Destroys every callback unrun.
  void clear() noexcept;

 private:
  static constexpr std::size_t kAlign = 8;

  // 32-byte aligned: a header keeps the record's size in the address's low
  // bits.
  struct alignas(32) Ops {
    void (*invoke_destroy)(void* storage);
    void (*destroy)(void* storage) noexcept;
    std::uint32_t record_size;  // header + callable, rounded up
  };

  struct Chunk {
    Chunk* next = nullptr;
    std::size_t used = 0;  // bytes written
    alignas(16) unsigned char bytes[kChunkBytes];
  };

  // Record header. A word record (the whole record) has kWordTag set: a
  // QueuedObject's address, with kTabledTag too a TabledObject's, with
  // kCoroutineTag too a coroutine frame's. A
  // callable record's header is its ops table's address with the record's
  // size in 8-byte units less one (records are 16 to 128 bytes: 1 to 15) in
  // bits 1 to 4 (kSizeMask), bit 0 clear.
  struct Header {
    std::uintptr_t word;
  };
  static constexpr std::size_t kHeader = sizeof(Header);
  static constexpr std::uintptr_t kWordTag = 1;
  static constexpr std::uintptr_t kCoroutineTag = 2;
  static constexpr std::uintptr_t kTabledTag = 4;
  static constexpr std::uintptr_t kTagMask = 7;
  static constexpr std::uintptr_t kSizeMask = 30;
  static constexpr std::uintptr_t kOpsMask = 31;
  static_assert(kHeader == 8, "a word record is one 8-byte word");
  static_assert(kObjectUnits == 2 * ((kHeader + kUnitBytes - 1) / kUnitBytes) - 1);
  static_assert(alignof(Ops) > kOpsMask && alignof(QueuedObject) > kTagMask &&
                    alignof(TabledObject) > kTagMask,
                "the tag bits are free in ops and object addresses");
  static_assert(kHeader + kMaxInlineBytes <= (kSizeMask / 2 + 1) * kAlign);
  static std::uintptr_t ops_word(const Ops* ops) noexcept {
    return reinterpret_cast<std::uintptr_t>(ops) | ((ops->record_size / kAlign - 1) << 1);
  }
  static const Ops* ops_of(std::uintptr_t word) noexcept { return reinterpret_cast<const Ops*>(word & ~kOpsMask); }
  static std::size_t size_of(std::uintptr_t word) noexcept {
    return (word & kWordTag) != 0 ? kHeader : (((word & kSizeMask) >> 1) + 1) * kAlign;
  }
  // Runs the record at `header` whose header word is `word`.
  static void run_record(Header* header, std::uintptr_t word) {
    if ((word & kWordTag) == 0) [[likely]] {
      ops_of(word)->invoke_destroy(reinterpret_cast<unsigned char*>(header) + kHeader);
    } else if ((word & kCoroutineTag) != 0) {
      std::coroutine_handle<>::from_address(reinterpret_cast<void*>(word & ~kTagMask)).resume();
    } else if ((word & kTabledTag) != 0) {
      reinterpret_cast<TabledObject*>(word & ~kTagMask)->run_queued();
    } else {
      reinterpret_cast<QueuedObject*>(word & ~kTagMask)->run_queued();
    }
  }
  void emplace_word(std::uintptr_t word) {
    if (tail_ != nullptr && head_ == tail_ && head_offset_ == tail_->used) rewind();
    while (reserved_ != 0 && free_slots_after(kHeader) < reserved_) add_spare_chunk();
    if (tail_ == nullptr || tail_->used + kHeader > kChunkBytes) add_chunk();
    write_word(word);
  }
  void emplace_word_reserved(std::uintptr_t word) noexcept {
    if (tail_ != nullptr && head_ == tail_ && head_offset_ == tail_->used) rewind();
    // The invariant guarantees a spare chunk when the tail has no room.
    if (tail_ == nullptr || tail_->used + kHeader > kChunkBytes) take_spare_chunk();
    write_word(word);
    reserved_ -= kObjectUnits;
  }
  void write_word(std::uintptr_t word) noexcept {
    ::new (tail_->bytes + tail_->used) Header{word};
    tail_->used += kHeader;
    ++posted_;
  }

  static constexpr std::size_t record_size(std::size_t callable) noexcept {
    return kHeader + ((callable + kAlign - 1) & ~(kAlign - 1));
  }

  template <class D>
  static constexpr Ops inline_ops = {
      [](void* s) {
        D* callable = std::launder(static_cast<D*>(s));
        struct Destroy {
          D* callable;
          ~Destroy() { std::destroy_at(callable); }
        } destroy{callable};
        (*callable)();
      },
      [](void* s) noexcept { std::destroy_at(std::launder(static_cast<D*>(s))); },
      static_cast<std::uint32_t>(record_size(sizeof(D))),
  };

  template <class D>
  static constexpr Ops boxed_ops = {
      [](void* s) {
        struct Delete {
          D* callable;
          ~Delete() { delete callable; }
        } destroy{*std::launder(static_cast<D**>(s))};
        (*destroy.callable)();
      },
      [](void* s) noexcept { delete *std::launder(static_cast<D**>(s)); },
      static_cast<std::uint32_t>(record_size(sizeof(D*))),
  };

  // Returns where the callable goes; the record counts once commit() is called.
  void* reserve(const Ops* ops) {
    if (tail_ != nullptr && head_ == tail_ && head_offset_ == tail_->used) rewind();
    // Keep the reserved room: allocate spare chunks first (a refusal then
    // changes nothing).
    while (reserved_ != 0 && free_slots_after(ops->record_size) < reserved_) add_spare_chunk();
    if (tail_ == nullptr || tail_->used + ops->record_size > kChunkBytes) add_chunk();
    unsigned char* at = tail_->bytes + tail_->used;
    ::new (at) Header{ops_word(ops)};
    pending_ = ops->record_size;
    return at + kHeader;
  }
  void commit() noexcept {
    tail_->used += pending_;
    ++posted_;
  }

  Header* front_header() noexcept {
    // The previous front may have ended its chunk; move on lazily, so a chunk
    // is never released while one of its records is running.
    if (head_offset_ == head_->used && head_ != tail_) next_head_chunk();
    return std::launder(reinterpret_cast<Header*>(head_->bytes + head_offset_));
  }
  static_assert(kChunkBytes % kUnitBytes == 0);
  static constexpr std::size_t kUnitsPerChunk = kChunkBytes / kUnitBytes;
  // Units free without allocating: in the tail chunk's rest and in the
  // spare chunks.
  std::size_t free_slots() const noexcept {
    const std::size_t tail_rest = tail_ != nullptr ? kChunkBytes - tail_->used : 0;
    return tail_rest / kUnitBytes + spare_count_ * kUnitsPerChunk;
  }
  // free_slots() once a record of `size` bytes has been appended.
  std::size_t free_slots_after(std::size_t size) const noexcept {
    if (tail_ != nullptr && tail_->used + size <= kChunkBytes) {
      return (kChunkBytes - tail_->used - size) / kUnitBytes + spare_count_ * kUnitsPerChunk;
    }
    // A new tail chunk: a spare one if there is one, else a new one.
    const std::size_t spares_left = spare_count_ > 0 ? spare_count_ - 1 : 0;
    return (kChunkBytes - size) / kUnitBytes + spares_left * kUnitsPerChunk;
  }
  void next_head_chunk() noexcept;
  void add_chunk();
  void add_spare_chunk();
  void take_spare_chunk() noexcept;
  void rewind() noexcept;
  void recycle(Chunk* chunk) noexcept;

  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  Chunk* spare_ = nullptr;
  std::size_t spare_count_ = 0;
  std::size_t head_offset_ = 0;
  // Records ever posted and ever started (run or dropped); written apart, so
  // a run loop keeps its count in a register (see run_batch).
  std::size_t posted_ = 0;
  std::size_t started_ = 0;
  std::size_t pending_ = 0;
  std::size_t reserved_ = 0;
};

}  // namespace weft::detail
