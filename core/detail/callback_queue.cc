#include "core/detail/callback_queue.h"

namespace weft::detail {

namespace {
constexpr std::size_t kMaxSpareChunks = 8;
}  // namespace

CallbackQueue::~CallbackQueue() {
  clear();
  while (head_ != nullptr) {
    Chunk* next = head_->next;
    delete head_;
    head_ = next;
  }
  while (spare_ != nullptr) {
    Chunk* next = spare_->next;
    delete spare_;
    spare_ = next;
  }
}

void CallbackQueue::add_chunk() {
  if (spare_ == nullptr) add_spare_chunk();
  take_spare_chunk();
}

void CallbackQueue::add_spare_chunk() {
  Chunk* chunk = new Chunk;
  chunk->next = spare_;
  spare_ = chunk;
  ++spare_count_;
}

void CallbackQueue::take_spare_chunk() noexcept {
  Chunk* chunk = spare_;
  spare_ = chunk->next;
  --spare_count_;
  chunk->next = nullptr;
  chunk->used = 0;
  if (tail_ == nullptr) {
    head_ = chunk;
    head_offset_ = 0;
  } else {
    tail_->next = chunk;
  }
  tail_ = chunk;
}

void CallbackQueue::reserve_units(std::size_t n) {
  while (free_slots() < reserved_ + n) add_spare_chunk();
  reserved_ += n;
}

void CallbackQueue::recycle(Chunk* chunk) noexcept {
  // Kept beyond the usual few while reservations need the room.
  if (spare_count_ < kMaxSpareChunks || free_slots() < reserved_ + kUnitsPerChunk) {
    chunk->next = spare_;
    spare_ = chunk;
    ++spare_count_;
  } else {
    delete chunk;
  }
}

// Called only when everything written has been read and no record is
// running (head and tail meet in one chunk): write from its start again.
void CallbackQueue::rewind() noexcept {
  head_->used = 0;
  head_offset_ = 0;
}

void CallbackQueue::next_head_chunk() noexcept {
  Chunk* done = head_;
  head_ = head_->next;
  head_offset_ = 0;
  recycle(done);
}

void CallbackQueue::pop_front() noexcept {
  Header* header = front_header();
  ++started_;
  const std::uintptr_t word = header->word;
  if ((word & kWordTag) == 0) {
    // Moved past only once destroyed: a destructor may post into this chunk.
    ops_of(word)->destroy(reinterpret_cast<unsigned char*>(header) + kHeader);
    head_offset_ += size_of(word);
    return;
  }
  head_offset_ += kHeader;  // the word is read: the record may be reused
  // A coroutine record owns nothing (as a ResumeCoroutine callable would not).
  if ((word & kCoroutineTag) != 0) return;
  if ((word & kTabledTag) != 0) {
    reinterpret_cast<TabledObject*>(word & ~kTagMask)->drop_queued();
  } else {
    reinterpret_cast<QueuedObject*>(word & ~kTagMask)->drop_queued();
  }
}

void CallbackQueue::clear() noexcept {
  while (!empty()) pop_front();
}

}  // namespace weft::detail
