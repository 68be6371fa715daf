// weft::File, read_file and write_file: file I/O on a ThreadPool, results on
// the loop.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/executor/thread_pool.h"
#include "core/future/future.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"

using weft_test::await;
using weft_test::get;

TEST_CASE("a whole file goes out and comes back", "[file]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  weft::ThreadPool pool(2);
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7);
  get(loop, weft::write_file(loop, pool, dir / "blob", data));
  REQUIRE(get(loop, weft::read_file(loop, pool, dir / "blob")) == data);
  get(loop, weft::write_file(loop, pool, dir / "blob", "short"));  // truncates
  REQUIRE(get(loop, weft::read_file(loop, pool, dir / "blob")) == "short");
}

TEST_CASE("write_file creates a file with the permissions asked for", "[file]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  weft::ThreadPool pool(1);
  const mode_t old_mask = ::umask(0);
  get(loop, weft::write_file(loop, pool, dir / "private", "secret", 0600));
  get(loop, weft::write_file(loop, pool, dir / "shared", "public"));
  ::umask(old_mask);
  struct stat st {};
  REQUIRE(::stat((dir / "private").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir / "shared").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0644);
  REQUIRE(get(loop, weft::read_file(loop, pool, dir / "private")) == "secret");
}

TEST_CASE("a file is read and written at offsets", "[file]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  weft::ThreadPool pool(2);
  auto file = get(loop, weft::File::open(loop, pool, dir / "f",
                                         weft::FileMode::read_write | weft::FileMode::create));
  REQUIRE(file.is_open());
  REQUIRE(file.path() == dir / "f");
  // Several writes in flight at once, at their own offsets.
  std::vector<weft::Future<std::size_t>> writes;
  for (int i = 0; i < 8; ++i) writes.push_back(file.write_at(i * 4, "abc" + std::to_string(i)));
  for (auto& w : writes) REQUIRE(get(loop, std::move(w)) == 4);
  REQUIRE(get(loop, file.size()) == 32);
  REQUIRE(get(loop, file.read_at(4, 8)) == "abc1abc2");
  REQUIRE(get(loop, file.read_at(28, 100)) == "abc7");  // short at the end
  REQUIRE(get(loop, file.read_at(1000, 10)).empty());   // past it
  get(loop, file.sync());
  get(loop, file.close());
  REQUIRE_FALSE(file.is_open());
  REQUIRE(await(loop, file.read_at(0, 1)).error().code() == weft::Errc::closed);
  REQUIRE(get(loop, weft::read_file(loop, pool, dir / "f")).substr(0, 8) == "abc0abc1");
}

TEST_CASE("appending ignores the offset", "[file]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  weft::ThreadPool pool(1);
  get(loop, weft::write_file(loop, pool, dir / "log", "one\n"));
  auto file = get(loop, weft::File::open(loop, pool, dir / "log", weft::FileMode::write | weft::FileMode::append));
  get(loop, file.write_at(0, "two\n"));
  get(loop, file.close());
  REQUIRE(get(loop, weft::read_file(loop, pool, dir / "log")) == "one\ntwo\n");
}

TEST_CASE("file errors carry weft codes and the path", "[file]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  weft::ThreadPool pool(1);
  auto missing = await(loop, weft::read_file(loop, pool, dir / "missing"));
  REQUIRE(missing.error().code() == weft::Errc::not_found);
  REQUIRE(missing.error().message().find("missing") != std::string::npos);
  auto open_missing = await(loop, weft::File::open(loop, pool, dir / "missing"));
  REQUIRE(open_missing.error().code() == weft::Errc::not_found);
  get(loop, weft::write_file(loop, pool, dir / "exists", "x"));
  auto exclusive = await(loop, weft::File::open(loop, pool, dir / "exists",
                                                weft::FileMode::write | weft::FileMode::create |
                                                    weft::FileMode::exclusive));
  REQUIRE(exclusive.error().code() == weft::Errc::already_exists);
}

TEST_CASE("closing waits for the operations in flight", "[file]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  weft::ThreadPool pool(2);
  get(loop, weft::write_file(loop, pool, dir / "f", std::string(1 << 20, 'z')));
  auto file = get(loop, weft::File::open(loop, pool, dir / "f"));
  std::vector<weft::Future<std::string>> reads;
  for (int i = 0; i < 16; ++i) reads.push_back(file.read_at(static_cast<std::uint64_t>(i) << 16, 1 << 16));
  auto closed = file.close();  // the descriptor outlives the reads
  for (auto& r : reads) REQUIRE(get(loop, std::move(r)) == std::string(1 << 16, 'z'));
  get(loop, std::move(closed));
}
