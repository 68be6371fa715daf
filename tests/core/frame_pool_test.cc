// FramePool: size classes, reuse, frees from other threads, retirement.
#include "core/detail/frame_pool.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_TEST_ASAN 1
#endif
#endif
#if defined(WEFT_TEST_ASAN)
#include <sanitizer/asan_interface.h>
#endif

using weft::detail::FramePool;

namespace {

// A pool owned by the test (deleted through retire()).
struct OwnedPool {
  FramePool* pool = new FramePool();
  FramePool::Scope scope{pool};
  ~OwnedPool() { pool->retire(); }
};

}  // namespace

TEST_CASE("blocks are 16-byte aligned, distinct, and reused after a free", "[frame_pool]") {
  OwnedPool owned;
  FramePool& pool = *owned.pool;
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) {
    void* b = pool.allocate(100);
    REQUIRE(reinterpret_cast<std::uintptr_t>(b) % 16 == 0);
    std::memset(b, 0xab, 100);
    blocks.push_back(b);
  }
  REQUIRE(std::set<void*>(blocks.begin(), blocks.end()).size() == blocks.size());
  REQUIRE(pool.blocks_in_use() == 1000);
  void* last = blocks.back();
  pool.deallocate(last, 100);
  REQUIRE(pool.allocate(112) == last);  // same 16-byte class
  for (void* b : blocks) pool.deallocate(b, 100);
  REQUIRE(pool.blocks_in_use() == 0);
}

TEST_CASE("a block never crosses into the next segment", "[frame_pool]") {
  OwnedPool owned;
  std::vector<void*> blocks;
  for (int i = 0; i < 5000; ++i) {
    auto* b = static_cast<char*>(owned.pool->allocate(2048));
    const auto start = reinterpret_cast<std::uintptr_t>(b) / FramePool::kSegmentBytes;
    const auto end = reinterpret_cast<std::uintptr_t>(b + 2047) / FramePool::kSegmentBytes;
    REQUIRE(start == end);
    blocks.push_back(b);
  }
  REQUIRE(owned.pool->bytes_reserved() > 5000 * 2048);
  for (void* b : blocks) owned.pool->deallocate(b, 2048);
}

TEST_CASE("frames larger than a pool block come from the heap", "[frame_pool]") {
  OwnedPool owned;  // the current pool while the test runs
  FramePool& pool = *owned.pool;
  void* largest = weft::detail::allocate_frame(FramePool::kMaxBlock);
  REQUIRE(pool.blocks_in_use() == 1);  // kMaxBlock still fits a pool block
  const std::size_t reserved = pool.bytes_reserved();

  void* big = weft::detail::allocate_frame(FramePool::kMaxBlock + 1);
  std::memset(big, 0, FramePool::kMaxBlock + 1);
  REQUIRE(pool.blocks_in_use() == 1);  // not from the pool
  REQUIRE(pool.bytes_reserved() == reserved);
  weft::detail::deallocate_frame(big, FramePool::kMaxBlock + 1);  // ASan: a heap block

  weft::detail::deallocate_frame(largest, FramePool::kMaxBlock);
  REQUIRE(pool.blocks_in_use() == 0);
}

TEST_CASE("blocks freed on another thread are taken back by the owner", "[frame_pool][threads]") {
  OwnedPool owned;
  FramePool& pool = *owned.pool;
  std::vector<void*> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(pool.allocate(64));
  std::thread other([&] {
    for (void* b : blocks) weft::detail::deallocate_frame(b, 64);
  });
  other.join();
  REQUIRE(pool.blocks_in_use() == 100);  // until taken back
  std::set<void*> reused;
  for (int i = 0; i < 100; ++i) reused.insert(pool.allocate(64));
  REQUIRE(reused == std::set<void*>(blocks.begin(), blocks.end()));
  REQUIRE(pool.blocks_in_use() == 100);
  for (void* b : reused) pool.deallocate(b, 64);
}

TEST_CASE("a retired pool lives until its last block comes back", "[frame_pool][threads]") {
  auto* pool = new FramePool();
  void* block;
  {
    FramePool::Scope scope(pool);
    block = weft::detail::allocate_frame(80);
  }
  pool->retire();  // a block is still out: the pool stays
  std::thread([block] { weft::detail::deallocate_frame(block, 80); }).join();  // deletes it (LSan checks)
}

#if defined(WEFT_TEST_ASAN)
// Under ASan a pooled block is poisoned from its free to its reuse, so a use
// after free of a coroutine frame or a future's state is reported.
TEST_CASE("under ASan, free blocks and unused chunk memory are poisoned", "[frame_pool][asan]") {
  OwnedPool owned;
  FramePool& pool = *owned.pool;
  auto* block = static_cast<char*>(pool.allocate(96));
  REQUIRE(__asan_region_is_poisoned(block, 96) == nullptr);
  REQUIRE(__asan_address_is_poisoned(block + 96 + 32) == 1);  // not handed out yet
  std::memset(block, 0x5a, 96);
  pool.deallocate(block, 96);
  REQUIRE(__asan_address_is_poisoned(block) == 1);
  REQUIRE(__asan_address_is_poisoned(block + 95) == 1);

  void* elsewhere = nullptr;
  std::thread other([&] {
    elsewhere = weft::detail::allocate_frame(96);  // that thread's own pool
    weft::detail::deallocate_frame(elsewhere, 96);
  });
  other.join();
  REQUIRE(elsewhere != block);

  void* reused = pool.allocate(96);
  REQUIRE(reused == block);
  REQUIRE(__asan_region_is_poisoned(reused, 96) == nullptr);

  // A block freed from another thread stays poisoned on the remote list and
  // after the owner takes it back.
  std::thread remote([&] { pool.deallocate(reused, 96); });
  remote.join();
  REQUIRE(__asan_address_is_poisoned(block) == 1);
  std::vector<void*> taken;
  for (int i = 0; i < 2000; ++i) taken.push_back(pool.allocate(96));
  for (void* b : taken) REQUIRE(__asan_region_is_poisoned(b, 96) == nullptr);
  for (void* b : taken) pool.deallocate(b, 96);
}
#endif
