// redis::Pool: permits from a Semaphore, idle connections in a stack (the
// most recently used first: its socket is the least likely to have gone).
#include "examples/redis/redis_pool.h"

#include <utility>

namespace redis {

Pool::Lease::Lease(Pool* pool, Connection connection, weft::SemaphoreGuard permit) noexcept
    : pool_(pool), connection_(std::move(connection)), permit_(std::move(permit)) {}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
    permit_ = std::move(other.permit_);
  }
  return *this;
}

Pool::Lease::~Lease() { give_back(); }

void Pool::Lease::give_back() noexcept {
  if (pool_ != nullptr && connection_.is_open()) {
    try {
      pool_->idle_.push_back(std::move(connection_));
    } catch (...) {
      // Out of memory: the connection closes with this lease instead.
    }
  }
  pool_ = nullptr;
  connection_ = Connection();
  permit_.release();  // after the connection is idle, so the next waiter finds it
}

Pool::Pool(weft::Loop& loop, weft::SocketAddress address, std::size_t max_connections,
           ConnectOptions options)
    : loop_(loop),
      address_(address),
      max_connections_(max_connections),
      options_(options),
      permits_(max_connections) {
  if (max_connections == 0)
    throw weft::Exception(weft::Errc::invalid_argument, "redis: a pool of 0 connections");
}

weft::Task<Pool::Lease> Pool::acquire() {
  weft::SemaphoreGuard permit = co_await permits_.acquire_guard();
  while (!idle_.empty()) {
    Connection connection = std::move(idle_.back());
    idle_.pop_back();
    if (connection.is_open()) co_return Lease(this, std::move(connection), std::move(permit));
  }
  Connection connection = co_await Connection::connect(loop_, address_, options_);
  ++opened_;
  co_return Lease(this, std::move(connection), std::move(permit));
}

weft::Task<Reply> Pool::command(std::vector<std::string> args) {
  Lease lease = co_await acquire();
  co_return co_await lease->command(std::move(args));
}

}  // namespace redis
