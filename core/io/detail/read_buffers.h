// weft::detail read buffers: the strings that stream reads deliver their bytes
// in, reused instead of allocated afresh for every read.
//
// A read result used to be a new std::string per read. Under bulk traffic
// (an echo or a proxy: read 16 KiB, write it, read again) that is one heap
// block of the message's size allocated and freed per message, and glibc
// returns the top of the heap to the kernel as it frees (trimming), so the
// next read's copy into the new block page-faults on every page: the page
// faults and the zeroing of the new pages cost more than the copy itself.
//
// So each thread keeps a few emptied strings: a read builds its result in one
// (make_read_result), and the places that see a result's bytes consumed give
// it back (recycle_read_buffer): a stream write that took a string by move
// and handed all of it to the kernel, a completed write request, the C API
// after its read callback returned. A string that is never given back is an
// ordinary string; nothing depends on recycling.
//
// Small results (under kSmallCapacity bytes: a request, a command, a short
// answer) get a string of kSmallCapacity bytes, kept in a list of their own
// when given back: a server answering small requests then allocates no
// memory per read, and never takes a large buffer for a few bytes.
//
// Threads: per thread (thread_local); a string may be recycled on any thread,
// it then serves that thread's reads. Bounded: at most kMaxPooled strings of
// at most kMaxPooledCapacity bytes each, kMaxPooledBytes in all, are kept,
// and kMaxPooledSmall small ones.
#pragma once

#include <cstddef>
#include <string>

namespace weft::detail {

inline constexpr std::size_t kMaxPooled = 64;
inline constexpr std::size_t kMinPooledCapacity = 1024;
inline constexpr std::size_t kMaxPooledCapacity = 256 * 1024;
inline constexpr std::size_t kMaxPooledBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kSmallCapacity = 512;
inline constexpr std::size_t kMaxPooledSmall = 64;

// A string holding a copy of data[0..size), in a pooled buffer when one is
// kept (a small one, of kSmallCapacity, for fewer bytes than that). Throws
// std::bad_alloc like std::string.
std::string make_read_result(const char* data, std::size_t size);

// An empty string, with the capacity of a pooled (large) buffer when one is
// kept. Small buffers serve only make_read_result's small results.
std::string take_read_buffer() noexcept;

// A pooled buffer as it was given back: its size is that of the bytes it last
// held (at least kMinPooledCapacity), its contents stale. The kernel can read
// into all of it without the zero-filling a resize up would cost. "" if none.
std::string take_sized_read_buffer() noexcept;

// Keeps `buffer`'s memory (and size) for a later read result, if it is worth
// keeping (capacity within [kMinPooledCapacity, kMaxPooledCapacity], or a
// small one: [kSmallCapacity, kMinPooledCapacity)) and the pool has room;
// otherwise frees it. `buffer` is left empty either way.
void recycle_read_buffer(std::string&& buffer) noexcept;

// How many buffers this thread keeps now, small ones included (for tests).
std::size_t pooled_read_buffers() noexcept;

// Frees every buffer this thread keeps, small ones included (for tests and
// the fuzz harness, which start each case from an empty pool).
void release_read_buffers() noexcept;

}  // namespace weft::detail
