// weft::detail::ListenerImpl: a listening libuv stream (TCP or Unix domain
// socket) and its queue of pending accepts, behind TcpListener and
// PipeListener. See tcp_listener.h for the semantics.
//
// libuv calls on_connection once per connection it has accept()ed from the
// kernel. If an accept is pending, the connection is taken at once (uv_accept
// into a new StreamImpl). If not, it is left with libuv ("held"): libuv then
// stops polling the socket until we take it, so further connections wait in
// the kernel's backlog; the next accept() takes the held one first.
//
// Running out of descriptors (only reported here when libuv's own reserve
// descriptor is gone, see uv__emfile_trick): the failure arrives inside
// libuv's accept loop, which retries at once and would spin. We fail the
// first pending accept, close our reserve descriptor so that libuv's next
// accept() succeeds, and "pause": that connection is then held, which stops
// libuv's polling. A timer retries after accept_retry_delay: it re-opens the
// reserve (or waits again) and un-pauses, handing the held connection to a
// pending accept. With no reserve left to give, the listener closes itself.
#pragma once

#include <uv.h>

#include <deque>
#include <memory>
#include <string>

#include "core/clock/clock.h"
#include "core/io/detail/io_object.h"
#include "core/io/detail/stream_impl.h"
#include "core/io/socket_address.h"
#include "core/io/stream.h"

namespace weft::detail {

class ListenerImpl final : public IoObject {
 public:
  struct Options {
    int backlog = 511;
    bool ipv6_only = false;
    bool no_delay = true;
    StreamLimits limits;
    Duration accept_retry_delay{0};
  };

  // Bind and listen; throws Exception on failure.
  static IoRef<ListenerImpl> listen_tcp(Loop& loop, const SocketAddress& address,
                                        const Options& options);
  static IoRef<ListenerImpl> listen_pipe(Loop& loop, const std::string& path,
                                         const Options& options);

  // Completes `op` with the next connection (now, or once one arrives).
  void accept(std::unique_ptr<StreamResultOp> op);

  SocketAddress local_address() const;
  // The path a Unix domain socket listener is bound to.
  const std::string& path() const noexcept { return path_; }

 private:
  ListenerImpl(Loop& loop, StreamImpl::Type type, const Options& options);  // its queues allocate: may throw

  void fail_pending(const Error& error) noexcept override;
  void sweep_cancelled() noexcept override;

  // Opens the reserve descriptor (throws if it cannot) and starts
  // listening: uv_listen's status, which the caller turns into an error
  // that names what it listens on.
  int start_listening();
  void drop_cancelled_front() noexcept;
  // Takes the connection libuv holds into a new stream.
  IoRef<StreamImpl> take_held(Error& error);
  // Hands the held connection (or one kept from a cancelled accept) to the
  // first pending accept, as long as there are both.
  void serve();
  void on_accept_error(int status);
  void schedule_retry();
  void retry_accepting();
  static void on_connection(uv_stream_t* server, int status);

  union Handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_;
  const StreamImpl::Type type_;
  const Options options_;
  std::deque<std::unique_ptr<StreamResultOp>> accepts_;
  std::deque<IoRef<StreamImpl>> kept_;  // accepted, but its accept was cancelled meanwhile
  bool held_ = false;                   // libuv holds an accepted connection
  bool paused_ = false;
  int reserve_fd_ = -1;
  TimerHandle retry_timer_;
  std::string path_;  // pipe listeners: the socket file, removed on close
};

}  // namespace weft::detail
