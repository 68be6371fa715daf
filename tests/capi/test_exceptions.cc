// C++ hosts: exceptions thrown by callbacks, work functions and handlers
// never cross the C boundary. They are caught in the one place that converts
// them: a loop callback's goes to the error handler (the loop goes on), a
// work function's rejects its future with WEFT_ERR_EXCEPTION and the
// message, a misuse handler's is dropped.
#include <stdexcept>
#include <string>

extern "C" {
#include "tests/capi/support.h"
}

namespace {

struct Events {
  int count = 0;
  weft_event_kind kind = WEFT_EVENT_KIND_FORCE32;
  std::string message;
};

void on_event(void* user, const weft_event* event) {
  auto* e = static_cast<Events*>(user);
  e->count++;
  e->kind = event->kind;
  e->message = event->message;
}

void throwing_callback(void*, weft_status, const char*) { throw std::runtime_error("boom from a callback"); }

void throwing_future_callback(void*, weft_future_t*, weft_status, const weft_value*, const char*) {
  throw std::logic_error("boom from a future callback");
}

weft_status throwing_work(void*, weft_value*) { throw std::runtime_error("boom from work"); }

void record(void* user, weft_future_t*, weft_status status, const weft_value*, const char* message) {
  auto* out = static_cast<std::pair<weft_status, std::string>*>(user);
  out->first = status;
  out->second = message != nullptr ? message : "";
}

void test_exceptions__a_throwing_callback_is_reported_and_the_loop_goes_on(void** state) {
  fixture* f = FIXTURE(state);
  Events events;
  weft_runtime_set_error_handler(f->runtime, on_event, &events);
  call_record after{};
  assert_int_equal(weft_loop_call_soon(f->loop, throwing_callback, nullptr), WEFT_OK);
  assert_int_equal(weft_loop_call_soon(f->loop, record_callback, &after), WEFT_OK);
  weft_future_t* fut;
  weft_future_create(&fut, f->loop);
  weft_future_then(fut, f->loop, throwing_future_callback, nullptr);
  weft_future_resolve(fut, nullptr);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(after.calls, 1);
  assert_int_equal(events.count, 2);
  assert_int_equal(events.kind, WEFT_EVENT_CALLBACK_EXCEPTION);
  assert_true(events.message.find("boom from a future callback") != std::string::npos);
  weft_future_release(fut);
}

void test_exceptions__a_throwing_work_function_rejects_its_future(void** state) {
  fixture* f = FIXTURE(state);
  std::pair<weft_status, std::string> outcome{WEFT_OK, ""};
  assert_int_equal(weft_executor_submit(nullptr, f->pool, f->loop, throwing_work, record, &outcome), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(outcome.first, WEFT_ERR_EXCEPTION);
  assert_true(outcome.second.find("boom from work") != std::string::npos);
}

void throwing_misuse_handler(void*, const char*, weft_status, const char*) {
  throw std::runtime_error("a handler that throws");
}

void test_exceptions__a_throwing_misuse_handler_is_contained(void** state) {
  (void)state;
  weft_set_misuse_handler(throwing_misuse_handler, nullptr);
  assert_int_equal(weft_loop_call_soon(nullptr, record_callback, nullptr), WEFT_ERR_INVALID_HANDLE);
  weft_set_misuse_handler(nullptr, nullptr);
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_exceptions__a_throwing_callback_is_reported_and_the_loop_goes_on,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_exceptions__a_throwing_work_function_rejects_its_future, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test(test_exceptions__a_throwing_misuse_handler_is_contained),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
