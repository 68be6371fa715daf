// redis::ReplyReader over hiredis's redisReader.
#include "examples/redis/reply_reader.h"

#include <hiredis/hiredis.h>

#include <string>

#include "core/error.h"

namespace redis {

void ReplyReader::Free::operator()(redisReader* reader) const noexcept { redisReaderFree(reader); }

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {
  if (!reader_) throw weft::Exception(weft::Errc::no_memory, "redis: creating a reply reader");
}

void ReplyReader::feed(std::string_view data) {
  if (data.empty()) return;
  if (redisReaderFeed(reader_.get(), data.data(), data.size()) != REDIS_OK) {
    if (reader_->err == REDIS_ERR_PROTOCOL) {
      throw weft::Exception(weft::Errc::io_error,
                            std::string("redis: protocol error: ") + reader_->errstr);
    }
    throw weft::Exception(weft::Errc::no_memory, "redis: buffering a reply");
  }
}

std::optional<Reply> ReplyReader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
    if (reader_->err == REDIS_ERR_OOM)
      throw weft::Exception(weft::Errc::no_memory, "redis: building a reply");
    throw weft::Exception(weft::Errc::io_error,
                          std::string("redis: protocol error: ") + reader_->errstr);
  }
  if (raw == nullptr) return std::nullopt;
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> owned(static_cast<redisReply*>(raw),
                                                                &freeReplyObject);
  return Reply::from_hiredis(*owned);
}

}  // namespace redis
