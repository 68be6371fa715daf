// weft's W11 (tests/bench/README.md): a TCP echo server written with weft's I/O API
// (the same shape as examples/echo_server.cc: read_some, write, and once the
// write is in the kernel, read again), on its own thread and loop, driven by
// the shared load generator (echo_load.h). Like the raw-libuv server it
// reaches each connection through a pointer, not a lookup.
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/weft.h"
#include "tests/bench/echo_load.h"
#include "tests/bench/workload.h"

namespace bench {
namespace {

class WeftEchoServer final : public EchoServerThread {
 public:
  int start() override {
    std::promise<int> port_promise;
    auto port_future = port_promise.get_future();
    thread_ = std::thread([this, &port_promise] { run(port_promise); });
    return port_future.get();
  }

  void stop() override {
    loop_ready_.wait(false);
    loop_->call_soon_threadsafe([this] {
      stopping_ = true;
      listener_.close();
      connections_.clear();
      loop_->stop();
    });
    thread_.join();
  }


 private:
  void run(std::promise<int>& port_promise) {
    pin_to_cpu(1);
    weft::Loop loop;
    loop_ = &loop;
    try {
      listener_ = weft::TcpListener::bind(loop, weft::SocketAddress::loopback_v4(0));
    } catch (const weft::Exception& e) {
      set_error(e.what());
      port_promise.set_value(-1);
      return;
    }
    auto keep_running = loop.keep_alive();  // until stop()
    accept_next();
    loop_ready_.store(true);
    loop_ready_.notify_all();
    const ThreadCpu cpu_start = thread_cpu();
    port_promise.set_value(listener_.local_address().port());
    loop.run();
    cpu_ = thread_cpu() - cpu_start;
    keep_running.reset();
    loop.close();
  }

  void accept_next() {
    listener_.accept().then(*loop_, [this](weft::Result<weft::TcpStream> accepted) {
      if (!accepted.ok()) {
        if (accepted.error().code() != weft::Errc::closed) set_error(accepted.error().message());
        return;
      }
      connections_.push_back(std::make_unique<weft::TcpStream>(std::move(accepted).value()));
      echo(connections_.back().get());
      accept_next();
    });
  }

  // The continuations hold the stream itself (as the libuv server's callbacks
  // hold their client); after stop() they see Errc::closed and touch nothing.
  void echo(weft::TcpStream* stream) {
    stream->read_some().then(*loop_, [this, stream](weft::Result<std::string> data) {
      if (stopping_) return;
      if (!data.ok() || data.value().empty()) {
        forget(stream);
        return;
      }
      stream->write(std::move(data).value()).then(*loop_, [this, stream](weft::Result<void> written) {
        if (stopping_) return;
        if (!written.ok()) {
          forget(stream);
          return;
        }
        echo(stream);
      });
    });
  }

  void forget(weft::TcpStream* stream) {
    std::erase_if(connections_, [stream](const auto& c) { return c.get() == stream; });
  }


  std::thread thread_;
  weft::Loop* loop_ = nullptr;
  std::atomic<bool> loop_ready_{false};
  weft::TcpListener listener_;
  std::vector<std::unique_ptr<weft::TcpStream>> connections_;
  bool stopping_ = false;
};

const bool registered = register_echo_workloads<WeftEchoServer>("weft");

}  // namespace
}  // namespace bench
