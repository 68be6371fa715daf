// Functions that return no weft_status, with operator new failing: none may
// let std::bad_alloc cross extern "C". weft_status_name built its names on
// the heap at its first call, so that call could throw into a C caller.
//
// This binary replaces the global operator new so a test can make it fail;
// each case runs in a child process, so that "first call" means first call.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

extern "C" {
#include "tests/capi/support.h"
}

namespace {
std::atomic<bool> g_fail_new{false};
}  // namespace

void* operator new(std::size_t size) {
  if (g_fail_new.load(std::memory_order_relaxed)) throw std::bad_alloc();
  if (void* p = std::malloc(size != 0 ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

// Runs `body` in a child with operator new failing; the child exits with
// body's result, or 100 if an exception escaped a weft function.
template <class Body>
int in_child_without_memory(Body body) {
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    int code = 0;
    g_fail_new.store(true);
    try {
      code = body();
    } catch (...) {
      code = 100;
    }
    g_fail_new.store(false);
    _exit(code);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

void test_out_of_memory__status_names_need_no_memory(void**) {
  const int result = in_child_without_memory([] {
    if (std::strcmp(weft_status_name(WEFT_ERR_INVALID_HANDLE), "WEFT_ERR_INVALID_HANDLE") != 0) return 1;
    if (std::strcmp(weft_status_name(WEFT_OK), "WEFT_OK") != 0) return 2;
    if (std::strcmp(weft_status_name(WEFT_ERR_IO_ERROR), "WEFT_ERR_IO_ERROR") != 0) return 3;
    return 0;
  });
  assert_int_equal(result, 0);
}

void test_out_of_memory__status_strings_and_versions_need_no_memory(void**) {
  const int result = in_child_without_memory([] {
    if (weft_status_str(WEFT_ERR_NO_MEMORY) == nullptr) return 1;
    if (weft_version() != WEFT_VERSION_HEX) return 2;
    if (weft_version_check(WEFT_ABI_VERSION, WEFT_VERSION_HEX) != WEFT_OK) return 3;
    return 0;
  });
  assert_int_equal(result, 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_out_of_memory__status_names_need_no_memory),
      cmocka_unit_test(test_out_of_memory__status_strings_and_versions_need_no_memory),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
