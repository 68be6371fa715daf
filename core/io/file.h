// weft::File and whole-file helpers: file I/O off the loop thread.
//
//   weft::ThreadPool pool(2);
//   auto file = weft::File::open(loop, pool, "data.bin", weft::FileMode::read);
//   ... file.read_at(0, 4096) ... file.write_at(offset, bytes) ... file.close()
//   auto text = weft::read_file(loop, pool, "config.txt");     // Future<std::string>
//
// Why an Executor and not libuv's uv_fs_* requests: regular files are always
// "ready" to poll, so every file call blocks, and libuv sends uv_fs_* to its
// process-wide pool of four threads (its size fixed by an environment
// variable, shared by every library in the process and by DNS), where one
// slow disk or NFS mount stalls everyone else's files. weft runs each call on
// the executor the host passes in (its ThreadPool, sized and owned by the
// host), reusing run_in_executor: the result's continuations run on `loop`,
// and cancelling a future before its job starts skips the call.
//
// - Positional reads and writes (pread/pwrite), so operations in flight never
//   race on a shared file offset; several may be in flight at once.
// - read_at returns fewer bytes at the end of the file and "" past it;
//   write_at writes everything (retrying short writes) or fails.
// - close() (and the destructor) closes the descriptor after the operations
//   in flight have finished; its future reports close(2)'s result. Later
//   operations fail with Errc::closed.
// - Errors: Errc::not_found, permission_denied, already_exists (exclusive
//   create), no_space, io_error, ...; the message names the path.
//
// Threads: call on the loop's thread; `loop` and `executor` must outlive the
// file's operations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/executor/executor.h"
#include "core/future/future.h"

namespace weft {

enum class FileMode : unsigned {
  read = 1,
  write = 2,
  read_write = 3,
  create = 4,     // create if missing
  truncate = 8,   // empty it on open
  append = 16,    // writes go to the end (write_at's offset is ignored)
  exclusive = 32, // with create: fail (already_exists) if it exists
};

constexpr FileMode operator|(FileMode a, FileMode b) noexcept {
  return static_cast<FileMode>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(FileMode set, FileMode flag) noexcept {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) == static_cast<unsigned>(flag);
}

class File {
 public:
  File() noexcept;
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  [[nodiscard]] static Future<File> open(Loop& loop, Executor& executor, std::string path,
                                         FileMode mode = FileMode::read, int permissions = 0644);

  [[nodiscard]] Future<std::string> read_at(std::uint64_t offset, std::size_t n);
  // Returns the number of bytes written (all of them).
  [[nodiscard]] Future<std::size_t> write_at(std::uint64_t offset, std::string data);
  [[nodiscard]] Future<std::uint64_t> size();
  [[nodiscard]] Future<void> sync();
  [[nodiscard]] Future<void> close();

  bool is_open() const noexcept { return state_ != nullptr; }
  const std::string& path() const noexcept;

 private:
  struct State;
  File(Loop& loop, Executor& executor, std::shared_ptr<State> state) noexcept;
  Error closed_error() const;

  Loop* loop_ = nullptr;
  Executor* executor_ = nullptr;
  std::shared_ptr<State> state_;
};

// The whole file.
[[nodiscard]] Future<std::string> read_file(Loop& loop, Executor& executor, std::string path);
// Creates or truncates `path` and writes `data` (`permissions`, before the
// umask, when it is created).
[[nodiscard]] Future<void> write_file(Loop& loop, Executor& executor, std::string path, std::string data,
                                      int permissions = 0644);

}  // namespace weft
