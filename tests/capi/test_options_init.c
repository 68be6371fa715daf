/* The options_init functions of every option struct (for hosts that bind
 * by symbol and cannot use the ..._INIT macros): they fill the defaults and
 * struct_size, zero a newer caller's tail, refuse NULL and too small sizes
 * (as misuse), and what they fill is accepted by the functions that take
 * the options. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdint.h>
#include <string.h>

#include "tests/capi/op_outcome.h"

/* ---- options_init ------------------------------------------------------- */

/* A struct `size` bytes larger than the caller's, to see that init fills a
 * newer struct's tail with zeros. */
#define TAIL 16

#define CHECK_INIT_REFUSALS(type, init_fn)                                                  \
  do {                                                                                      \
    type probe;                                                                             \
    memset(&probe, 0xAB, sizeof probe);                                                     \
    assert_int_equal(init_fn(NULL, sizeof(type)), WEFT_ERR_INVALID_ARGUMENT);               \
    assert_int_equal(init_fn(&probe, 0), WEFT_ERR_INVALID_ARGUMENT);                        \
    assert_int_equal(init_fn(&probe, sizeof(size_t)), WEFT_ERR_INVALID_ARGUMENT);           \
    assert_int_equal(init_fn(&probe, sizeof(type) - 1), WEFT_ERR_INVALID_ARGUMENT);         \
    struct {                                                                                \
      type options;                                                                         \
      unsigned char tail[TAIL];                                                             \
    } larger;                                                                               \
    memset(&larger, 0xCD, sizeof larger);                                                   \
    assert_int_equal(init_fn(&larger.options, sizeof larger), WEFT_OK);                     \
    assert_int_equal(larger.options.struct_size, sizeof larger);                            \
    for (size_t k = 0; k < TAIL; ++k) assert_int_equal(larger.tail[k], 0);                  \
  } while (0)

static void test_options_init__fills_defaults(void** state) {
  (void)state;
  misuse_record misuse;
  misuse_recorder_install(&misuse);

  weft_tcp_listen_options tcp;
  memset(&tcp, 0xAB, sizeof tcp);
  assert_int_equal(weft_tcp_listen_options_init(&tcp, sizeof tcp), WEFT_OK);
  const weft_tcp_listen_options tcp_defaults = WEFT_TCP_LISTEN_OPTIONS_INIT;
  assert_int_equal(tcp.struct_size, sizeof tcp);
  assert_int_equal(tcp.backlog, tcp_defaults.backlog);
  assert_int_equal(tcp.ipv6_only, tcp_defaults.ipv6_only);
  assert_int_equal(tcp.nagle, tcp_defaults.nagle);
  CHECK_INIT_REFUSALS(weft_tcp_listen_options, weft_tcp_listen_options_init);

  weft_pipe_listen_options pipe_options;
  memset(&pipe_options, 0xAB, sizeof pipe_options);
  assert_int_equal(weft_pipe_listen_options_init(&pipe_options, sizeof pipe_options), WEFT_OK);
  const weft_pipe_listen_options pipe_defaults = WEFT_PIPE_LISTEN_OPTIONS_INIT;
  assert_int_equal(pipe_options.struct_size, sizeof pipe_options);
  assert_int_equal(pipe_options.backlog, pipe_defaults.backlog);
  CHECK_INIT_REFUSALS(weft_pipe_listen_options, weft_pipe_listen_options_init);

  weft_udp_bind_options udp;
  memset(&udp, 0xAB, sizeof udp);
  assert_int_equal(weft_udp_bind_options_init(&udp, sizeof udp), WEFT_OK);
  const weft_udp_bind_options udp_defaults = WEFT_UDP_BIND_OPTIONS_INIT;
  assert_int_equal(udp.struct_size, sizeof udp);
  assert_int_equal(udp.reuse_address, udp_defaults.reuse_address);
  assert_int_equal(udp.ipv6_only, udp_defaults.ipv6_only);
  assert_int_equal(udp.max_queued, udp_defaults.max_queued);
  CHECK_INIT_REFUSALS(weft_udp_bind_options, weft_udp_bind_options_init);

  weft_resolve_options resolve;
  memset(&resolve, 0xAB, sizeof resolve);
  assert_int_equal(weft_resolve_options_init(&resolve, sizeof resolve), WEFT_OK);
  const weft_resolve_options resolve_defaults = WEFT_RESOLVE_OPTIONS_INIT;
  assert_int_equal(resolve.struct_size, sizeof resolve);
  assert_int_equal(resolve.family, resolve_defaults.family);
  assert_int_equal(resolve.socktype, resolve_defaults.socktype);
  assert_null(resolve.executor);
  CHECK_INIT_REFUSALS(weft_resolve_options, weft_resolve_options_init);

  weft_file_options file;
  memset(&file, 0xAB, sizeof file);
  assert_int_equal(weft_file_options_init(&file, sizeof file), WEFT_OK);
  const weft_file_options file_defaults = WEFT_FILE_OPTIONS_INIT;
  assert_int_equal(file.struct_size, sizeof file);
  assert_null(file.executor);
  assert_int_equal(file.permissions, file_defaults.permissions);
  CHECK_INIT_REFUSALS(weft_file_options, weft_file_options_init);

  weft_process_options process;
  memset(&process, 0xAB, sizeof process);
  assert_int_equal(weft_process_options_init(&process, sizeof process), WEFT_OK);
  const weft_process_options process_defaults = WEFT_PROCESS_OPTIONS_INIT;
  assert_int_equal(process.struct_size, sizeof process);
  assert_null(process.file);
  assert_null(process.args);
  assert_null(process.env);
  assert_null(process.cwd);
  assert_int_equal(process.stdin_mode, process_defaults.stdin_mode);
  assert_int_equal(process.stdout_mode, process_defaults.stdout_mode);
  assert_int_equal(process.stderr_mode, process_defaults.stderr_mode);
  CHECK_INIT_REFUSALS(weft_process_options, weft_process_options_init);

  weft_stream_limits limits;
  memset(&limits, 0xAB, sizeof limits);
  assert_int_equal(weft_stream_limits_init(&limits, sizeof limits), WEFT_OK);
  const weft_stream_limits limits_defaults = WEFT_STREAM_LIMITS_INIT;
  assert_int_equal(limits.struct_size, sizeof limits);
  assert_int_equal(limits.read_high_water, limits_defaults.read_high_water);
  assert_int_equal(limits.write_high_water, limits_defaults.write_high_water);
  assert_int_equal(limits.write_low_water, limits_defaults.write_low_water);
  CHECK_INIT_REFUSALS(weft_stream_limits, weft_stream_limits_init);

  /* Each refusal is a misuse, reported with the function's name. */
  assert_int_equal(misuse.count, 7 * 4);
  assert_int_equal(misuse.last_status, WEFT_ERR_INVALID_ARGUMENT);
  assert_string_equal(misuse.last_function, "weft_stream_limits_init");
  misuse_recorder_remove();
}

/* What options_init fills is accepted by the function it is for. */
static void test_options_init__initialised_options_are_accepted(void** state) {
  fixture* f = FIXTURE(state);
  weft_udp_bind_options udp;
  assert_int_equal(weft_udp_bind_options_init(&udp, sizeof udp), WEFT_OK);
  weft_udp_socket_t* socket = NULL;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, &udp), WEFT_OK);
  assert_int_equal(weft_udp_close(socket), WEFT_OK);

  weft_tcp_listen_options tcp;
  assert_int_equal(weft_tcp_listen_options_init(&tcp, sizeof tcp), WEFT_OK);
  weft_tcp_listener_t* listener = NULL;
  assert_int_equal(weft_tcp_listen(&listener, f->loop, "127.0.0.1", 0, &tcp), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);

  weft_resolve_options resolve;
  assert_int_equal(weft_resolve_options_init(&resolve, sizeof resolve), WEFT_OK);
  weft_future_t* lookup = NULL;
  assert_int_equal(weft_resolve(&lookup, f->loop, "127.0.0.1", 1, &resolve, NULL, NULL), WEFT_OK);
  await_future(f->loop, lookup);
  resolved_value(lookup, WEFT_VALUE_POINTER);
  assert_int_equal(weft_future_release(lookup), WEFT_OK);

  weft_stream_t *a = NULL, *b = NULL;
  stream_pair_open(f, &a, &b);
  weft_stream_limits limits;
  assert_int_equal(weft_stream_limits_init(&limits, sizeof limits), WEFT_OK);
  assert_int_equal(weft_stream_set_limits(a, &limits), WEFT_OK);
  assert_int_equal(weft_stream_close(a), WEFT_OK);
  assert_int_equal(weft_stream_close(b), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_options_init__fills_defaults),
      cmocka_unit_test_setup_teardown(test_options_init__initialised_options_are_accepted, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
