// W11 (tests/bench/README.md) against a TCP echo server written on the C API
// (weft/tcp.h and weft/stream.h, through the shipped libweft.so.1), as "impl":"weft-c": the
// shape of examples/c/echo_server.c (read up to 64 KiB, write it, read again
// once the write is in the kernel), on its own thread and runtime, driven by
// the shared load generator (echo_load.h) like the C++ and raw-libuv servers.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "tests/bench/echo_load.h"
#include "tests/bench/workload.h"
#include "weft/weft.h"

namespace bench {
namespace {

class CEchoServer;

// One client connection: exactly one operation pending on it at a time.
struct Connection {
  CEchoServer* server;
  weft_stream_t* stream;
};

class CEchoServer final : public EchoServerThread {
 public:
  int start() override {
    std::promise<int> port_promise;
    auto port_future = port_promise.get_future();
    thread_ = std::thread([this, &port_promise] { run(port_promise); });
    return port_future.get();
  }

  // weft_loop_stop is any-thread; the server thread then destroys its
  // runtime, which calls every pending callback with WEFT_ERR_CANCELLED.
  void stop() override {
    if (loop_.load() != nullptr) weft_loop_stop(loop_.load());
    thread_.join();
  }


 private:
  void run(std::promise<int>& port_promise) {
    pin_to_cpu(1);
    weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
    options.threads = 1;
    weft_runtime_t* runtime = nullptr;
    weft_loop_t* loop = nullptr;
    uint16_t port = 0;
    weft_status status = weft_runtime_create(&runtime, &options);
    if (status == WEFT_OK) status = weft_runtime_loop(&loop, runtime);
    if (status == WEFT_OK) status = weft_tcp_listen(&listener_, loop, "127.0.0.1", 0, nullptr);
    if (status == WEFT_OK) status = weft_tcp_listener_port(&port, listener_);
    if (status == WEFT_OK) status = weft_tcp_accept(nullptr, listener_, on_accept, this);
    if (status != WEFT_OK) {
      set_error(std::string("weft-c echo server: ") + weft_status_str(status));
      weft_runtime_destroy(runtime);
      port_promise.set_value(-1);
      return;
    }
    loop_.store(loop);
    const ThreadCpu cpu_start = thread_cpu();
    port_promise.set_value(port);
    // Until stop(): the pending accept keeps the loop running.
    status = weft_loop_run(loop, WEFT_RUN_DEFAULT);
    cpu_ = thread_cpu() - cpu_start;
    if (status != WEFT_OK) set_error(std::string("weft_loop_run: ") + weft_status_str(status));
    weft_runtime_destroy(runtime);
  }

  static void on_accept(void* user, weft_status status, const char* message, weft_stream_t* stream) {
    auto* self = static_cast<CEchoServer*>(user);
    if (status == WEFT_ERR_CANCELLED) return;
    weft_status next = weft_tcp_accept(nullptr, self->listener_, on_accept, self);
    if (next != WEFT_OK) self->set_error(std::string("weft_tcp_accept: ") + weft_status_str(next));
    if (status != WEFT_OK) {
      self->set_error(std::string("accept: ") + message);
      return;
    }
    read_next(new Connection{self, stream});
  }

  static void finish(Connection* c) {
    weft_stream_close(c->stream);
    delete c;
  }

  static void read_next(Connection* c) {
    if (weft_stream_read(nullptr, c->stream, 64 * 1024, on_read, c) != WEFT_OK) finish(c);
  }

  static void on_read(void* user, weft_status status, const char*, const void* bytes, size_t len) {
    auto* c = static_cast<Connection*>(user);
    if (status == WEFT_ERR_CANCELLED) {
      delete c;  // the runtime is being destroyed: the stream is gone
    } else if (status != WEFT_OK || weft_stream_write(nullptr, c->stream, bytes, len, on_written, c) != WEFT_OK) {
      finish(c);  // end of stream or failure
    }
  }

  static void on_written(void* user, weft_status status, const char*) {
    auto* c = static_cast<Connection*>(user);
    if (status == WEFT_ERR_CANCELLED) {
      delete c;
    } else if (status != WEFT_OK) {
      finish(c);
    } else {
      read_next(c);
    }
  }


  std::thread thread_;
  std::atomic<weft_loop_t*> loop_{nullptr};
  weft_tcp_listener_t* listener_ = nullptr;  // server thread only
};

const bool registered = register_echo_workloads<CEchoServer>("weft-c");

}  // namespace
}  // namespace bench
