// redis::Pool: a small pool of redis::Connections to one server, at most
// `max_connections` of them, bounded by a weft::Semaphore.
//
//   redis::Pool pool(loop, address, 4);
//   {
//     redis::Pool::Lease c = co_await pool.acquire();   // waits while 4 are in use
//     co_await c->incr("hits");
//   }                                                   // back to the pool
//   co_await pool.command({"INCR", "hits"});            // the same in one call
//
// - acquire() waits for a permit (fairly, in order), then takes an idle
//   connection or opens a new one; a failed connect gives the permit back.
// - A Lease returns its connection when destroyed, unless the connection
//   broke (server gone, a command cancelled mid-reply): that one is dropped
//   and the next acquire() opens a fresh one.
//
// Threads: the loop's thread. The Pool owns its idle connections and must
// outlive every Lease and pending acquire().
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/weft.h"
#include "examples/redis/redis_client.h"

namespace redis {

class Pool {
 public:
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    Connection& operator*() noexcept { return connection_; }
    Connection* operator->() noexcept { return &connection_; }

   private:
    friend class Pool;
    Lease(Pool* pool, Connection connection, weft::SemaphoreGuard permit) noexcept;
    void give_back() noexcept;
    Pool* pool_ = nullptr;
    Connection connection_;
    weft::SemaphoreGuard permit_;
  };

  Pool(weft::Loop& loop, weft::SocketAddress address, std::size_t max_connections,
       ConnectOptions options = {});
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  weft::Task<Lease> acquire();
  // acquire(), command(), release.
  weft::Task<Reply> command(std::vector<std::string> args);

  std::size_t max_connections() const noexcept { return max_connections_; }
  // Connections opened since the pool was made (a measure of reuse).
  std::size_t connections_opened() const noexcept { return opened_; }
  std::size_t idle() const noexcept { return idle_.size(); }
  // Leases out now.
  std::size_t in_use() const noexcept { return max_connections_ - permits_.available(); }

 private:
  weft::Loop& loop_;
  weft::SocketAddress address_;
  std::size_t max_connections_;
  ConnectOptions options_;
  weft::Semaphore permits_;
  std::vector<Connection> idle_;
  std::size_t opened_ = 0;
};

}  // namespace redis
