/* The one asynchronous model, seen from the operations' futures: UDP
 * send_to/recv_from, resolve, process and signal
 * waits, and timers, each with a future and no callback (the future alone
 * carries the outcome: the value kind and content weft documents, or a
 * rejection with the right status and a message), and with both a callback
 * and a future (both see the same outcome, exactly once, the future first).
 * Cancelling one operation through its future (a UDP receive, a timer, a
 * signal wait). The file operations are in test_file_futures.c, the
 * options_init functions in test_options_init.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, kill */
#endif
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "tests/capi/op_outcome.h"

/* ---- UDP ---------------------------------------------------------------- */

static weft_udp_socket_t* udp_bind_loopback(fixture* f, weft_address* address) {
  weft_udp_socket_t* socket = NULL;
  assert_int_equal(weft_udp_bind(&socket, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_udp_local_address(address, socket), WEFT_OK);
  return socket;
}

static void assert_datagram(weft_future_t* future, const char* text, size_t len, const weft_address* from) {
  weft_value value = resolved_value(future, WEFT_VALUE_POINTER);
  const weft_datagram* d = value.as.pointer.pointer;
  assert_non_null(d);
  assert_int_equal(d->data.size, len);
  if (len > 0) assert_memory_equal(d->data.data, text, len);
  assert_int_equal(d->truncated, 0);
  assert_int_equal(d->from.family, from->family);
  assert_int_equal(d->from.port, from->port);
  assert_string_equal(d->from.host, from->host);
}

static void test_op_futures__udp_futures_without_callbacks(void** state) {
  fixture* f = FIXTURE(state);
  weft_address a_address, b_address;
  weft_udp_socket_t* a = udp_bind_loopback(f, &a_address);
  weft_udp_socket_t* b = udp_bind_loopback(f, &b_address);

  weft_future_t *received = NULL, *sent = NULL;
  assert_int_equal(weft_udp_recv_from(&received, b, NULL, NULL), WEFT_OK);
  assert_non_null(received);
  assert_int_equal(weft_udp_send_to(&sent, a, "ping", 4, "127.0.0.1", b_address.port, NULL, NULL), WEFT_OK);
  assert_non_null(sent);
  await_future(f->loop, sent);
  resolved_value(sent, WEFT_VALUE_NONE);
  await_future(f->loop, received);
  assert_datagram(received, "ping", 4, &a_address);
  assert_int_equal(weft_future_release(received), WEFT_OK);
  assert_int_equal(weft_future_release(sent), WEFT_OK);

  /* An empty datagram: a datagram of size 0. */
  assert_int_equal(weft_udp_recv_from(&received, b, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_udp_send_to(NULL, a, NULL, 0, "127.0.0.1", b_address.port, NULL, NULL), WEFT_OK);
  await_future(f->loop, received);
  assert_datagram(received, NULL, 0, &a_address);
  assert_int_equal(weft_future_release(received), WEFT_OK);

  /* A failed send rejects its future. */
  static unsigned char big[70000];
  assert_int_equal(weft_udp_send_to(&sent, a, big, sizeof big, "127.0.0.1", b_address.port, NULL, NULL),
                   WEFT_OK);
  await_future(f->loop, sent);
  assert_rejected(sent, WEFT_ERR_MESSAGE_TOO_LONG, NULL);
  assert_int_equal(weft_future_release(sent), WEFT_OK);

  /* A refused call gives no future. */
  weft_future_t* refused = NULL;
  assert_int_equal(weft_udp_send_to(&refused, a, "x", 1, "localhost", 9, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);

  /* Closing the socket rejects a pending receive's future, cancelled. */
  assert_int_equal(weft_udp_recv_from(&received, b, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_udp_close(b), WEFT_OK);
  assert_rejected(received, WEFT_ERR_CANCELLED, NULL);
  assert_int_equal(weft_future_release(received), WEFT_OK);
  assert_int_equal(weft_udp_close(a), WEFT_OK);
}

static void test_op_futures__udp_callback_and_future_see_the_same_outcome(void** state) {
  fixture* f = FIXTURE(state);
  weft_address a_address, b_address;
  weft_udp_socket_t* a = udp_bind_loopback(f, &a_address);
  weft_udp_socket_t* b = udp_bind_loopback(f, &b_address);

  outcome received = {0}, sent = {0};
  assert_int_equal(weft_udp_recv_from(&received.future, b, on_recv, &received), WEFT_OK);
  assert_int_equal(weft_udp_send_to(&sent.future, a, "both", 4, "127.0.0.1", b_address.port, on_done, &sent),
                   WEFT_OK);
  assert_true(run_until(f->loop, &received.calls));
  assert_true(run_until(f->loop, &sent.calls));
  spin_loop(f->loop, 3);
  assert_same_outcome(&sent);
  assert_int_equal(sent.status, WEFT_OK);
  assert_int_equal(sent.future_kind, WEFT_VALUE_NONE);
  assert_same_outcome(&received);
  assert_int_equal(received.status, WEFT_OK);
  assert_int_equal(received.len, 4);
  assert_memory_equal(received.bytes, "both", 4);
  assert_datagram(received.future, "both", 4, &received.address);
  assert_int_equal(received.address.port, a_address.port);

  /* A failure: both see WEFT_ERR_MESSAGE_TOO_LONG with the same message. */
  static unsigned char big[70000];
  outcome too_long = {0};
  assert_int_equal(
      weft_udp_send_to(&too_long.future, a, big, sizeof big, "127.0.0.1", b_address.port, on_done, &too_long),
      WEFT_OK);
  assert_true(run_until(f->loop, &too_long.calls));
  assert_same_outcome(&too_long);
  assert_int_equal(too_long.status, WEFT_ERR_MESSAGE_TOO_LONG);

  /* Closing cancels: both once, the same message. */
  outcome pending = {0};
  assert_int_equal(weft_udp_recv_from(&pending.future, b, on_recv, &pending), WEFT_OK);
  assert_int_equal(weft_udp_close(b), WEFT_OK);
  assert_same_outcome(&pending);
  assert_int_equal(pending.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_udp_close(a), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(sent.calls + received.calls + too_long.calls + pending.calls, 4);

  weft_future_release(received.future);
  weft_future_release(sent.future);
  weft_future_release(too_long.future);
  weft_future_release(pending.future);
}

static void test_op_futures__cancelling_a_udp_receive_leaves_the_datagram_for_the_next(void** state) {
  fixture* f = FIXTURE(state);
  weft_address a_address, b_address;
  weft_udp_socket_t* a = udp_bind_loopback(f, &a_address);
  weft_udp_socket_t* b = udp_bind_loopback(f, &b_address);

  outcome cancelled = {0};
  assert_int_equal(weft_udp_recv_from(&cancelled.future, b, on_recv, &cancelled), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(cancelled.calls, 0);
  assert_int_equal(weft_future_cancel(cancelled.future), WEFT_OK);
  assert_int_equal(cancelled.calls, 1); /* inside weft_future_cancel */
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_same_outcome(&cancelled);
  assert_rejected(cancelled.future, WEFT_ERR_CANCELLED, NULL);
  assert_int_equal(weft_future_cancel(cancelled.future), WEFT_ERR_ALREADY_COMPLETED);

  /* The socket is still usable; a datagram sent now waits for the next
   * receive. */
  weft_future_t* sent = NULL;
  assert_int_equal(weft_udp_send_to(&sent, a, "later", 5, "127.0.0.1", b_address.port, NULL, NULL), WEFT_OK);
  await_future(f->loop, sent);
  spin_loop(f->loop, 5);
  assert_int_equal(cancelled.calls, 1);
  weft_future_t* next = NULL;
  assert_int_equal(weft_udp_recv_from(&next, b, NULL, NULL), WEFT_OK);
  await_future(f->loop, next);
  assert_datagram(next, "later", 5, &a_address);
  assert_int_equal(cancelled.calls, 1);

  assert_int_equal(weft_udp_close(a), WEFT_OK);
  assert_int_equal(weft_udp_close(b), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(weft_future_release(cancelled.future), WEFT_OK);
  assert_int_equal(weft_future_release(sent), WEFT_OK);
  assert_int_equal(weft_future_release(next), WEFT_OK);
}

/* ---- resolve ------------------------------------------------------------ */

static void test_op_futures__resolve(void** state) {
  fixture* f = FIXTURE(state);
  /* Future only: a POINTER to a weft_address_list. */
  weft_future_t* lookup = NULL;
  assert_int_equal(weft_resolve(&lookup, f->loop, "127.0.0.1", 53, NULL, NULL, NULL), WEFT_OK);
  assert_non_null(lookup);
  await_future(f->loop, lookup);
  weft_value value = resolved_value(lookup, WEFT_VALUE_POINTER);
  const weft_address_list* list = value.as.pointer.pointer;
  assert_non_null(list);
  assert_int_equal(list->count, 1);
  assert_non_null(list->addresses);
  assert_int_equal(list->addresses[0].family, WEFT_ADDRESS_IPV4);
  assert_string_equal(list->addresses[0].host, "127.0.0.1");
  assert_int_equal(list->addresses[0].port, 53);
  assert_int_equal(weft_future_release(lookup), WEFT_OK);

  /* A failure rejects it: no IPv4 address for ::1. */
  weft_resolve_options v4_only = WEFT_RESOLVE_OPTIONS_INIT;
  v4_only.family = WEFT_RESOLVE_IPV4;
  assert_int_equal(weft_resolve(&lookup, f->loop, "::1", 80, &v4_only, NULL, NULL), WEFT_OK);
  await_future(f->loop, lookup);
  assert_rejected(lookup, WEFT_ERR_HOST_NOT_FOUND, NULL);
  assert_int_equal(weft_future_release(lookup), WEFT_OK);

  /* Callback and future. */
  outcome both = {0};
  assert_int_equal(weft_resolve(&both.future, f->loop, "::1", 443, NULL, on_resolve, &both), WEFT_OK);
  assert_true(run_until(f->loop, &both.calls));
  assert_same_outcome(&both);
  assert_int_equal(both.status, WEFT_OK);
  assert_int_equal(both.count, 1);
  value = resolved_value(both.future, WEFT_VALUE_POINTER);
  list = value.as.pointer.pointer;
  assert_int_equal(list->count, both.count);
  assert_int_equal(list->addresses[0].family, WEFT_ADDRESS_IPV6);
  assert_string_equal(list->addresses[0].host, both.address.host);
  assert_string_equal(list->addresses[0].host, "::1");
  assert_int_equal(list->addresses[0].port, 443);
  assert_int_equal(weft_future_release(both.future), WEFT_OK);

  outcome failed = {0};
  assert_int_equal(weft_resolve(&failed.future, f->loop, "::1", 80, &v4_only, on_resolve, &failed), WEFT_OK);
  assert_true(run_until(f->loop, &failed.calls));
  assert_same_outcome(&failed);
  assert_int_equal(failed.status, WEFT_ERR_HOST_NOT_FOUND);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(both.calls + failed.calls, 2);
  assert_int_equal(weft_future_release(failed.future), WEFT_OK);
}

/* ---- processes ---------------------------------------------------------- */

static weft_process_t* spawn_sh(fixture* f, const char* script) {
  const char* const args[] = {"sh", "-c", script, NULL};
  weft_process_options options;
  assert_int_equal(weft_process_options_init(&options, sizeof options), WEFT_OK);
  options.file = "/bin/sh";
  options.args = args;
  options.stdin_mode = WEFT_STDIO_NULL;
  options.stdout_mode = WEFT_STDIO_NULL;
  options.stderr_mode = WEFT_STDIO_NULL;
  weft_process_t* child = NULL;
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_OK);
  assert_non_null(child);
  return child;
}

static void test_op_futures__process_wait(void** state) {
  fixture* f = FIXTURE(state);
  /* Future only: INT64, the exit code... */
  weft_process_t* child = spawn_sh(f, "exit 3");
  weft_future_t* exited = NULL;
  assert_int_equal(weft_process_wait(&exited, child, NULL, NULL), WEFT_OK);
  assert_non_null(exited);
  await_future(f->loop, exited);
  assert_int64_value(exited, 3);
  assert_int_equal(weft_future_release(exited), WEFT_OK);
  /* ...also for a wait made after the exit. */
  assert_int_equal(weft_process_wait(&exited, child, NULL, NULL), WEFT_OK);
  await_future(f->loop, exited);
  assert_int64_value(exited, 3);
  assert_int_equal(weft_future_release(exited), WEFT_OK);
  assert_int_equal(weft_process_close(child), WEFT_OK);

  /* ...or minus the signal that ended the child. */
  child = spawn_sh(f, "sleep 30");
  outcome killed = {0};
  assert_int_equal(weft_process_wait(&killed.future, child, on_wait, &killed), WEFT_OK);
  assert_int_equal(weft_process_kill(child, SIGKILL), WEFT_OK);
  assert_true(run_until(f->loop, &killed.calls));
  assert_same_outcome(&killed);
  assert_int_equal(killed.status, WEFT_OK);
  assert_int_equal(killed.term_signal, SIGKILL);
  assert_int64_value(killed.future, -SIGKILL);
  assert_int_equal(weft_process_close(child), WEFT_OK);

  /* Callback and future with an exit code. */
  child = spawn_sh(f, "exit 7");
  outcome both = {0};
  assert_int_equal(weft_process_wait(&both.future, child, on_wait, &both), WEFT_OK);
  assert_true(run_until(f->loop, &both.calls));
  assert_same_outcome(&both);
  assert_int_equal(both.number, 7);
  assert_int_equal(both.term_signal, 0);
  assert_int64_value(both.future, 7);
  assert_int_equal(weft_process_close(child), WEFT_OK);

  /* Closing the handle cancels a pending wait: both once, same message. */
  child = spawn_sh(f, "sleep 30");
  outcome cancelled = {0};
  weft_future_t* cancelled_only = NULL;
  assert_int_equal(weft_process_wait(&cancelled.future, child, on_wait, &cancelled), WEFT_OK);
  assert_int_equal(weft_process_wait(&cancelled_only, child, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_process_kill(child, SIGKILL), WEFT_OK); /* so that nothing outlives the test */
  assert_int_equal(weft_process_close(child), WEFT_OK);
  assert_same_outcome(&cancelled);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_rejected(cancelled_only, WEFT_ERR_CANCELLED, NULL);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(killed.calls + both.calls + cancelled.calls, 3);

  weft_future_release(killed.future);
  weft_future_release(both.future);
  weft_future_release(cancelled.future);
  weft_future_release(cancelled_only);
}

/* ---- signals ------------------------------------------------------------ */

static void test_op_futures__signal_wait(void** state) {
  fixture* f = FIXTURE(state);
  weft_signal_t* usr1 = NULL;
  assert_int_equal(weft_signal_watch(&usr1, f->loop, SIGUSR1), WEFT_OK);

  /* Future only: INT64, the signal number. */
  weft_future_t* waited = NULL;
  assert_int_equal(weft_signal_wait(&waited, usr1, NULL, NULL), WEFT_OK);
  assert_non_null(waited);
  assert_int_equal(raise(SIGUSR1), 0);
  await_future(f->loop, waited);
  assert_int64_value(waited, SIGUSR1);
  assert_int_equal(weft_future_release(waited), WEFT_OK);

  /* Callback and future. */
  outcome both = {0};
  assert_int_equal(weft_signal_wait(&both.future, usr1, on_signal, &both), WEFT_OK);
  assert_int_equal(kill(getpid(), SIGUSR1), 0);
  assert_true(run_until(f->loop, &both.calls));
  assert_same_outcome(&both);
  assert_int_equal(both.status, WEFT_OK);
  assert_int_equal(both.number, SIGUSR1);
  assert_int64_value(both.future, SIGUSR1);

  /* Cancelled through its future: the callback runs inside the call; a
   * delivery after it is kept for the next wait. */
  outcome cancelled = {0};
  assert_int_equal(weft_signal_wait(&cancelled.future, usr1, on_signal, &cancelled), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(weft_future_cancel(cancelled.future), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_same_outcome(&cancelled);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_int_equal(cancelled.number, 0);
  assert_int_equal(weft_future_cancel(cancelled.future), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(raise(SIGUSR1), 0);
  spin_loop(f->loop, 5);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(weft_signal_wait(&waited, usr1, NULL, NULL), WEFT_OK);
  await_future(f->loop, waited);
  assert_int64_value(waited, SIGUSR1);
  assert_int_equal(weft_future_release(waited), WEFT_OK);

  /* A refused wait gives no future; closing rejects a pending one. */
  weft_signal_t* shutdown = NULL;
  assert_int_equal(weft_signal_shutdown(&shutdown, f->loop, NULL, NULL), WEFT_OK);
  weft_future_t* refused = NULL;
  assert_int_equal(weft_signal_wait(&refused, shutdown, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);
  assert_int_equal(weft_signal_close(shutdown), WEFT_OK);
  assert_int_equal(weft_signal_wait(&waited, usr1, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_signal_close(usr1), WEFT_OK);
  assert_rejected(waited, WEFT_ERR_CANCELLED, NULL);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(both.calls + cancelled.calls, 2);
  weft_future_release(waited);
  weft_future_release(both.future);
  weft_future_release(cancelled.future);
}

/* ---- timers (manual clock) ---------------------------------------------- */

static void test_op_futures__timer_futures_without_callbacks(void** state) {
  fixture* f = FIXTURE(state);
  weft_future_t *later = NULL, *at = NULL, *early = NULL;
  assert_int_equal(weft_loop_call_later(&later, f->loop, WEFT_MS(10), NULL, NULL), WEFT_OK);
  assert_non_null(later);
  assert_int_equal(weft_loop_call_at(&at, f->loop, WEFT_MS(20), NULL, NULL), WEFT_OK);
  assert_non_null(at);
  assert_int_equal(weft_loop_call_later(&early, f->loop, WEFT_MS(5), NULL, NULL), WEFT_OK);
  /* A timer's future joins the combinators like any future. */
  weft_future_t* both = NULL;
  weft_future_t* inputs[2] = {later, at};
  assert_int_equal(weft_future_all(&both, f->loop, inputs, 2), WEFT_OK);

  assert_int_equal(weft_loop_advance_clock(f->loop, WEFT_MS(10) - 1), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(weft_future_cancel(early), WEFT_ERR_ALREADY_COMPLETED); /* fired at 5 ms */
  resolved_value(early, WEFT_VALUE_NONE);
  assert_pending(later);
  assert_pending(at);
  assert_int_equal(weft_loop_advance_clock(f->loop, 1), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  resolved_value(later, WEFT_VALUE_NONE);
  assert_pending(at);
  assert_int_equal(weft_loop_advance_clock(f->loop, WEFT_MS(10)), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  resolved_value(at, WEFT_VALUE_NONE);
  resolved_value(both, WEFT_VALUE_NONE);
  assert_int_equal(weft_future_release(later), WEFT_OK);
  assert_int_equal(weft_future_release(at), WEFT_OK);
  assert_int_equal(weft_future_release(early), WEFT_OK);
  assert_int_equal(weft_future_release(both), WEFT_OK);

  /* Cancelled through its future: rejected, cancelled, at once. */
  weft_future_t* cancelled = NULL;
  assert_int_equal(weft_loop_call_at(&cancelled, f->loop, WEFT_SEC(1), NULL, NULL), WEFT_OK);
  assert_int_equal(weft_future_cancel(cancelled), WEFT_OK);
  assert_rejected(cancelled, WEFT_ERR_CANCELLED, NULL);
  assert_int_equal(weft_future_release(cancelled), WEFT_OK);

  /* Neither a callback nor a future: refused, *out left alone. */
  weft_future_t* refused = NULL;
  assert_int_equal(weft_loop_call_later(NULL, f->loop, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_call_at(NULL, f->loop, 1, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_loop_call_later(&refused, NULL, 1, NULL, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_null(refused);
  weft_stats stats = WEFT_STATS_INIT;
  assert_int_equal(weft_runtime_stats(&stats, f->runtime), WEFT_OK);
  assert_int_equal(stats.timers_pending, 0);
}

static void test_op_futures__timer_callback_and_future_see_the_same_outcome(void** state) {
  fixture* f = FIXTURE(state);
  outcome later = {0}, at = {0};
  assert_int_equal(weft_loop_call_later(&later.future, f->loop, WEFT_MS(3), on_done, &later), WEFT_OK);
  assert_int_equal(weft_loop_call_at(&at.future, f->loop, WEFT_MS(4), on_done, &at), WEFT_OK);
  assert_int_equal(weft_loop_advance_clock(f->loop, WEFT_MS(4)), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_same_outcome(&later);
  assert_int_equal(later.status, WEFT_OK);
  assert_int_equal(later.future_kind, WEFT_VALUE_NONE);
  assert_same_outcome(&at);
  assert_int_equal(at.status, WEFT_OK);
  resolved_value(at.future, WEFT_VALUE_NONE);
  assert_int_equal(weft_future_cancel(later.future), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(later.calls, 1);

  /* Cancelled through its future: the callback gets WEFT_ERR_CANCELLED
   * exactly once, inside weft_future_cancel, after the future. */
  outcome cancelled = {0}, cancelled_at = {0};
  assert_int_equal(weft_loop_call_later(&cancelled.future, f->loop, WEFT_MS(5), on_done, &cancelled), WEFT_OK);
  assert_int_equal(weft_loop_call_at(&cancelled_at.future, f->loop, WEFT_MS(50), on_done, &cancelled_at),
                   WEFT_OK);
  assert_int_equal(weft_future_cancel(cancelled.future), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_same_outcome(&cancelled);
  assert_int_equal(cancelled.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_future_cancel(cancelled_at.future), WEFT_OK);
  assert_same_outcome(&cancelled_at);
  assert_int_equal(cancelled_at.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_future_cancel(cancelled.future), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(weft_loop_advance_clock(f->loop, WEFT_SEC(1)), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(cancelled.calls, 1);
  assert_int_equal(cancelled_at.calls, 1);
  assert_int_equal(later.calls + at.calls, 2);

  weft_future_release(later.future);
  weft_future_release(at.future);
  weft_future_release(cancelled.future);
  weft_future_release(cancelled_at.future);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_op_futures__udp_futures_without_callbacks, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__udp_callback_and_future_see_the_same_outcome,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__cancelling_a_udp_receive_leaves_the_datagram_for_the_next,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__resolve, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__process_wait, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__signal_wait, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__timer_futures_without_callbacks, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__timer_callback_and_future_see_the_same_outcome,
                                      fixture_setup_manual, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
