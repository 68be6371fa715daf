/* Versions and statuses. */
#include <string.h>

#include "tests/capi/support.h"

static void test_version__library_matches_the_headers(void** state) {
  (void)state;
  assert_int_equal(weft_version(), WEFT_VERSION_HEX);
  assert_string_equal(weft_version_string(), WEFT_VERSION_STRING);
  assert_int_equal(weft_abi_version(), WEFT_ABI_VERSION);
  assert_int_equal(WEFT_VERSION_CHECK(), WEFT_OK);
  /* Older headers of the same ABI are fine; newer ones or another ABI not. */
  assert_int_equal(weft_version_check(WEFT_ABI_VERSION, 0x000000), WEFT_OK);
  assert_int_equal(weft_version_check(WEFT_ABI_VERSION, WEFT_VERSION_HEX + 1), WEFT_ERR_VERSION_MISMATCH);
  assert_int_equal(weft_version_check(WEFT_ABI_VERSION + 1, WEFT_VERSION_HEX), WEFT_ERR_VERSION_MISMATCH);
}

static void test_version__every_status_has_a_name_and_a_message(void** state) {
  (void)state;
  assert_string_equal(weft_status_name(WEFT_OK), "WEFT_OK");
  assert_string_equal(weft_status_str(WEFT_OK), "ok");
  assert_string_equal(weft_status_name(WEFT_ERR_TIMED_OUT), "WEFT_ERR_TIMED_OUT");
  assert_string_equal(weft_status_str(WEFT_ERR_TIMED_OUT), "operation timed out");
  assert_string_equal(weft_status_name(WEFT_ERR_STALE_HANDLE), "WEFT_ERR_STALE_HANDLE");
  for (int s = 0; s >= WEFT_ERR_VERSION_MISMATCH; --s) {
    assert_true(strncmp(weft_status_name((weft_status)s), "WEFT_", 5) == 0);
    assert_true(strlen(weft_status_str((weft_status)s)) > 1);
  }
  assert_string_equal(weft_status_str((weft_status)(WEFT_STATUS_USER - 3)), "application-defined error");
  assert_string_equal(weft_status_name((weft_status)(WEFT_STATUS_USER - 3)), "WEFT_STATUS_USER");
  assert_string_equal(weft_status_str((weft_status)-999), "unknown status");
  assert_string_equal(weft_status_str((weft_status)12345), "unknown status");
  assert_string_equal(weft_status_name((weft_status)12345), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version__library_matches_the_headers),
      cmocka_unit_test(test_version__every_status_has_a_name_and_a_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
