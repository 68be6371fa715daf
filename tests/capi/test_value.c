/* weft_value: builders and readers. */
#include <string.h>

#include "tests/capi/support.h"

static void noop_destroy(void* p) { (void)p; }

static void test_value__builders_fill_the_tagged_union(void** state) {
  (void)state;
  weft_value v = weft_value_none();
  assert_int_equal(v.kind, WEFT_VALUE_NONE);
  v = weft_value_bool(5);
  assert_int_equal(v.kind, WEFT_VALUE_BOOL);
  assert_int_equal(v.as.boolean, 1);
  v = weft_value_int64(-42);
  assert_int_equal(v.kind, WEFT_VALUE_INT64);
  assert_int_equal(v.as.int64, -42);
  v = weft_value_double(2.5);
  assert_int_equal(v.kind, WEFT_VALUE_DOUBLE);
  assert_true(v.as.f64 == 2.5);
  const char bytes[3] = {1, 0, 2};
  v = weft_value_bytes(bytes, 3);
  assert_int_equal(v.kind, WEFT_VALUE_BYTES);
  assert_ptr_equal(v.as.bytes.data, bytes); /* builders copy nothing */
  assert_int_equal(v.as.bytes.size, 3);
  v = weft_value_string("hey");
  assert_int_equal(v.kind, WEFT_VALUE_STRING);
  assert_int_equal(v.as.bytes.size, 3);
  v = weft_value_string(NULL);
  assert_int_equal(v.as.bytes.size, 0);
  int x;
  v = weft_value_pointer(&x, noop_destroy);
  assert_int_equal(v.kind, WEFT_VALUE_POINTER);
  assert_ptr_equal(v.as.pointer.pointer, &x);
  assert_ptr_equal(v.as.pointer.destroy, noop_destroy);
}

static void test_value__readers_check_the_kind(void** state) {
  (void)state;
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  weft_value i = weft_value_int64(7);
  int64_t out64 = 0;
  assert_int_equal(weft_value_get_int64(&out64, &i), WEFT_OK);
  assert_int_equal(out64, 7);
  double d = 0;
  assert_int_equal(weft_value_get_double(&d, &i), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(misuse.count, 1);
  assert_string_equal(misuse.last_function, "weft_value_get_double");
  weft_value s = weft_value_string("abc");
  const void* data = NULL;
  size_t size = 0;
  assert_int_equal(weft_value_get_bytes(&data, &size, &s), WEFT_OK);
  assert_int_equal(size, 3);
  assert_memory_equal(data, "abc", 3);
  int b = 0;
  weft_value t = weft_value_bool(1);
  assert_int_equal(weft_value_get_bool(&b, &t), WEFT_OK);
  assert_int_equal(b, 1);
  void* p = NULL;
  weft_value pv = weft_value_pointer(&b, NULL);
  assert_int_equal(weft_value_get_pointer(&p, &pv), WEFT_OK);
  assert_ptr_equal(p, &b);
  assert_int_equal(weft_value_get_int64(NULL, &i), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_value_get_int64(&out64, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_value_get_bytes(&data, NULL, &s), WEFT_ERR_INVALID_ARGUMENT);
  misuse_recorder_remove();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_value__builders_fill_the_tagged_union),
      cmocka_unit_test(test_value__readers_check_the_kind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
