// Raw-libuv baseline for W11 (tests/bench/README.md): a TCP echo server written
// directly on libuv, on its own thread, driven by the same load generator as
// weft's (echo_load.h). Like weft's it sets TCP_NODELAY and writes with
// uv_try_write first, queueing a copy of what the kernel did not take.
#include <uv.h>

#include <atomic>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "tests/bench/echo_load.h"
#include "tests/bench/uv_util.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

class UvEchoServer final : public EchoServerThread {
 public:
  int start() override {
    std::promise<int> port_promise;
    auto port_future = port_promise.get_future();
    thread_ = std::thread([this, &port_promise] { run(port_promise); });
    return port_future.get();
  }

  void stop() override {
    uv_async_send(&stop_);
    thread_.join();
  }


 private:
  struct Client {
    uv_tcp_t tcp;
    UvEchoServer* server;
    char buffer[64 * 1024];
  };
  struct WriteRequest {
    uv_write_t request;
    std::unique_ptr<char[]> data;
  };

  void run(std::promise<int>& port_promise) {
    pin_to_cpu(1);
    UvLoop loop;
    loop_ = loop.get();
    uv_tcp_init(loop_, &listener_);
    listener_.data = this;
    sockaddr_in address{};
    uv_ip4_addr("127.0.0.1", 0, &address);
    int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&address), 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 511, on_connection);
    if (rc != 0) {
      set_error(std::string("listen: ") + uv_strerror(rc));
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
      loop.close();
      port_promise.set_value(-1);
      return;
    }
    sockaddr_storage bound{};
    int length = sizeof(bound);
    uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &length);
    uv_async_init(loop_, &stop_, [](uv_async_t* async) {
      static_cast<UvEchoServer*>(async->data)->close_all();
    });
    stop_.data = this;
    const ThreadCpu cpu_start = thread_cpu();
    port_promise.set_value(ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port));
    uv_run(loop_, UV_RUN_DEFAULT);  // until close_all() closed everything
    cpu_ = thread_cpu() - cpu_start;
    std::string closing = loop.close();
    if (!closing.empty()) set_error(closing);
  }

  void close_all() {
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
    for (Client* client : clients_) close_client(client, false);
    clients_.clear();
  }

  void close_client(Client* client, bool erase) {
    if (erase) clients_.erase(client);
    uv_close(reinterpret_cast<uv_handle_t*>(&client->tcp),
             [](uv_handle_t* handle) { delete static_cast<Client*>(handle->data); });
  }

  static void on_connection(uv_stream_t* listener, int status) {
    auto* self = static_cast<UvEchoServer*>(listener->data);
    if (status < 0) return;
    auto* client = new Client;
    client->server = self;
    uv_tcp_init(self->loop_, &client->tcp);
    client->tcp.data = client;
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&client->tcp)) != 0) {
      self->close_client(client, false);
      return;
    }
    uv_tcp_nodelay(&client->tcp, 1);
    self->clients_.insert(client);
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&client->tcp),
        [](uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
          auto* c = static_cast<Client*>(handle->data);
          *buf = uv_buf_init(c->buffer, sizeof(c->buffer));
        },
        on_read);
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* client = static_cast<Client*>(stream->data);
    if (nread < 0) {
      client->server->close_client(client, true);
      return;
    }
    if (nread == 0) return;
    uv_buf_t out = uv_buf_init(buf->base, static_cast<unsigned>(nread));
    int sent = uv_try_write(stream, &out, 1);
    if (sent == nread) return;
    if (sent < 0 && sent != UV_EAGAIN) {
      client->server->close_client(client, true);
      return;
    }
    const std::size_t done = sent < 0 ? 0 : static_cast<std::size_t>(sent);
    auto* request = new WriteRequest;
    request->data.reset(new char[nread - done]);
    std::memcpy(request->data.get(), buf->base + done, nread - done);
    out = uv_buf_init(request->data.get(), static_cast<unsigned>(nread - done));
    uv_write(&request->request, stream, &out, 1,
             [](uv_write_t* w, int) { delete reinterpret_cast<WriteRequest*>(w); });
  }

  std::thread thread_;
  uv_loop_t* loop_ = nullptr;
  uv_tcp_t listener_;
  uv_async_t stop_;
  std::set<Client*> clients_;
};

const bool registered = register_echo_workloads<UvEchoServer>("libuv");

}  // namespace
}  // namespace bench
