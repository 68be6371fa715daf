// weft::Process: spawning with arguments, environment and working directory,
// talking to the child through pipes, exit codes and signals.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>

#include "core/error.h"
#include "core/io/io.h"
#include "core/loop/loop.h"
#include "tests/core/io/io_test_util.h"

using weft_test::await;
using weft_test::get;

TEST_CASE("a child reads stdin, writes stdout and stderr, and exits with a code", "[process]") {
  weft::Loop loop;
  weft::ProcessOptions options;
  options.args = {"/bin/sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"};
  options.stderr_mode = weft::StdioMode::pipe;
  auto child = weft::Process::spawn(loop, options);
  REQUIRE(child.pid() > 0);
  get(loop, child.stdin_pipe().write("hello, child\n"));
  get(loop, child.stdin_pipe().shutdown());
  REQUIRE(weft_test::read_all(loop, child.stdout_pipe()) == "HELLO, CHILD\n");
  REQUIRE(weft_test::read_all(loop, child.stderr_pipe()) == "oops\n");
  weft::ExitStatus status = get(loop, child.wait());
  REQUIRE(status.exit_code == 3);
  REQUIRE(status.term_signal == 0);
  REQUIRE_FALSE(status.success());
  REQUIRE(child.exit_status().has_value());
  REQUIRE(get(loop, child.wait()).exit_code == 3);  // waiting again: at once
  REQUIRE_FALSE(child.kill());                      // already gone
}

TEST_CASE("arguments, environment and working directory reach the child", "[process]") {
  weft_test::TempDir dir;
  weft::Loop loop;
  weft::ProcessOptions options;
  options.args = {"sh", "-c", "printf '%s|%s|%s' \"$1\" \"$GREETING\" \"$(pwd)\"", "sh", "two words"};
  options.env = std::vector<std::string>{"GREETING=hi there", "PATH=/usr/bin:/bin"};
  options.cwd = dir.path();
  options.stdin_mode = weft::StdioMode::null;
  auto child = weft::Process::spawn(loop, options);
  REQUIRE(weft_test::read_all(loop, child.stdout_pipe()) == "two words|hi there|" + dir.path());
  REQUIRE(get(loop, child.wait()).success());
}

TEST_CASE("file names the program; args are the child's argv as given, args[0] included",
          "[process]") {
  weft::Loop loop;
  weft::ProcessOptions options;
  options.file = "/bin/sh";
  // The shell reads its own argv[0] back from the kernel.
  options.args = {"a-custom-name", "-c", "tr '\\0' ' ' < /proc/$$/cmdline | cut -d' ' -f1"};
  options.stdin_mode = weft::StdioMode::null;
  auto child = weft::Process::spawn(loop, options);
  REQUIRE(weft_test::read_all(loop, child.stdout_pipe()) == "a-custom-name\n");
  REQUIRE(get(loop, child.wait()).success());
}

TEST_CASE("kill ends a child with a signal", "[process]") {
  weft::Loop loop;
  weft::ProcessOptions options;
  options.args = {"sleep", "30"};
  options.stdin_mode = weft::StdioMode::null;
  options.stdout_mode = weft::StdioMode::null;
  auto child = weft::Process::spawn(loop, options);
  auto exited = child.wait();
  REQUIRE(child.kill(SIGTERM));
  weft::ExitStatus status = get(loop, std::move(exited));
  REQUIRE(status.term_signal == SIGTERM);
}

TEST_CASE("spawning a program that does not exist throws not_found", "[process]") {
  weft::Loop loop;
  weft::ProcessOptions options;
  options.args = {"/no/such/program"};
  try {
    auto child = weft::Process::spawn(loop, options);
    FAIL("spawn succeeded");
  } catch (const weft::Exception& e) {
    REQUIRE(e.code() == weft::Errc::not_found);
  }
  REQUIRE(loop.close().handles_closed == 0);  // the failed spawn left nothing open
}
