/* The fail-Nth sweep's shared part (alloc_failure_sweep.c) and the scenario
 * groups its table draws on, one file each: alloc_failure_test.c (the table,
 * runtime, timers, futures, executors, scopes, teardown),
 * alloc_failure_streams.c (pipe, TCP and TLS streams, pairs, listeners),
 * alloc_failure_tls.c (TLS contexts and handshakes) and alloc_failure_io.c
 * (fd watches, UDP, files, DNS, processes, signals).
 *
 * Two binaries build the same files: alloc_failure_test, where the
 * runtime's allocator refuses, and alloc_failure_core_test
 * (WEFT_SWEEP_OPERATOR_NEW), where the core's operator new does
 * (operator_new_hook.cc). Everything runs on the test's main thread, the
 * loop thread. */
#ifndef WEFT_TESTS_CAPI_ALLOC_FAILURE_H
#define WEFT_TESTS_CAPI_ALLOC_FAILURE_H

#include "tests/capi/support.h"

/* The sweep's current refusal: the index from arming, and the mode. */
extern long g_index;
extern int g_forever;

#ifdef WEFT_SWEEP_OPERATOR_NEW
/* operator_new_hook.cc: the refusals go to the core's operator new instead. */
void operator_new_arm(long n, int forever);
void operator_new_disarm(void);
long operator_new_refused(void);
long operator_new_live(void);
#endif

/* Arms the current refusal (g_index, g_forever) for the operation that
 * follows, and disarms it. */
void arm(fixture* f);
void disarm(fixture* f);

/* Blocks the core holds through operator new (0 when the refusals go to
 * weft_allocator, whose own tracking fixture_teardown checks): a runtime
 * destroyed gives every one back. */
long core_blocks_live(void);

/* With WEFT_SWEEP_VERBOSE set, says how many allocations each sweep
 * refused in turn. */
void report_sweep(const char* what, long allocations);

/* What every call under refusal may return. */
void check_call_status(weft_status status);

/* A callback that was promised runs once; one that was not never runs
 * (the loop is run a few times first, so a late one would show). */
void check_promised(fixture* f, weft_status call, const volatile int* calls);

typedef void (*scenario_fn)(fixture* f);

/* Runs `scenario` for N = 0, 1, ... in both modes until the fail-once run
 * made no refusal (the scenario needs no more allocations than N). */
#define sweep(scenario) sweep_named(scenario, #scenario)
void sweep_named(scenario_fn scenario, const char* name);

/* Streams (alloc_failure_streams.c). Reads from `stream` up to and
 * including "!" (not armed). */
void read_to_mark(fixture* f, weft_stream_t* stream, read_record* r);
void test_alloc_failure__pipe_pair(void** state);
void test_alloc_failure__pipe_stream(void** state);
void test_alloc_failure__tcp_stream(void** state);
void test_alloc_failure__tls_stream(void** state);
void test_alloc_failure__tcp_listen_connect_accept(void** state);
void test_alloc_failure__pipe_listen_connect_accept(void** state);

/* TLS (alloc_failure_tls.c): the certificates, made once for the run
 * (0, or -1 if they could not be made); TLS streams over a pipe pair, with
 * contexts made for them and destroyed by tls_pair_done. */
int tls_sweep_start(void);
void tls_sweep_end(void);
void tls_pair_open(fixture* f, weft_stream_t** client, weft_stream_t** server);
void tls_pair_done(void);
void test_alloc_failure__tls_context_and_handshake(void** state);

/* fd watches, UDP, files, DNS, processes, signals (alloc_failure_io.c). */
void test_alloc_failure__fd_watch(void** state);
void test_alloc_failure__udp(void** state);
void test_alloc_failure__file(void** state);
void test_alloc_failure__dns(void** state);
void test_alloc_failure__process(void** state);
void test_alloc_failure__signal(void** state);

#endif
