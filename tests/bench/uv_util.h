// A uv_loop_t owned by one raw-libuv baseline workload, checked on close.
//
// The workloads close their own handles (uv_close) before calling close();
// close() runs the loop so the close callbacks run, then fails if any handle
// was left open (closing it anyway, so nothing leaks) or if uv_loop_close
// refuses.
#pragma once

#include <uv.h>

#include <string>

namespace bench {

class UvLoop {
 public:
  UvLoop() { uv_loop_init(&loop_); }
  ~UvLoop() {
    if (!closed_) close();
  }
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

  // Returns an empty string on success, else what went wrong.
  std::string close() {
    closed_ = true;
    uv_run(&loop_, UV_RUN_DEFAULT);
    std::size_t left_open = 0;
    uv_walk(
        &loop_,
        [](uv_handle_t* handle, void* count) {
          if (!uv_is_closing(handle)) {
            ++*static_cast<std::size_t*>(count);
            uv_close(handle, nullptr);
          }
        },
        &left_open);
    uv_run(&loop_, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop_);
    if (left_open != 0) return std::to_string(left_open) + " libuv handles were left open";
    return rc == 0 ? std::string() : std::string("uv_loop_close: ") + uv_strerror(rc);
  }

 private:
  uv_loop_t loop_{};
  bool closed_ = false;
};

}  // namespace bench
