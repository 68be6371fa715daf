/* The one asynchronous model, seen from the operations' futures: UDP
 * send_to/recv_from, resolve, the file operations, process and signal
 * waits, and timers, each with a future and no callback (the future alone
 * carries the outcome: the value kind and content weft documents, or a
 * rejection with the right status and a message), and with both a callback
 * and a future (both see the same outcome, exactly once, the future first).
 * Cancelling one operation through its future (a UDP receive, a timer, a
 * signal wait). And the options_init functions of the option structs. */
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

#include "tests/capi/support.h"

/* ---- helpers ------------------------------------------------------------ */

/* What a callback saw, and what its operation's future held when it ran.
 * Pass &o.future as the operation's `out` (or leave it NULL). */
typedef struct outcome {
  int calls;
  weft_status status;
  char message[200];
  weft_future_t* future;
  int future_done; /* the future had completed when the callback ran */
  weft_status future_status;
  char future_message[200];
  weft_value_kind future_kind;
  /* The callback's result, by operation. */
  int64_t number; /* size, exit code, signal number */
  int term_signal;
  unsigned char bytes[128];
  size_t len;
  int bytes_null;
  weft_address address; /* a datagram's sender, a lookup's first address */
  size_t count;
  int truncated;
  weft_file_t* file;
} outcome;

static void note(outcome* o, weft_status status, const char* message) {
  o->calls++;
  o->status = status;
  check_message(status, message, o->message, sizeof o->message);
  o->future_done = 0;
  if (o->future == NULL) return;
  weft_status future_status = WEFT_ERR_UNKNOWN;
  weft_value value = weft_value_none();
  const char* future_message = NULL;
  if (weft_future_result(&future_status, &value, &future_message, o->future) != WEFT_OK) return;
  o->future_done = 1;
  o->future_status = future_status;
  o->future_kind = value.kind;
  check_message(future_status, future_message, o->future_message, sizeof o->future_message);
}

static void on_done(void* user, weft_status status, const char* message) { note(user, status, message); }

static void on_bytes(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  outcome* o = user;
  note(o, status, message);
  o->bytes_null = bytes == NULL;
  o->len = len;
  if (len > 0 && len <= sizeof o->bytes) memcpy(o->bytes, bytes, len);
  if (status != WEFT_OK) {
    assert_null(bytes);
    assert_int_equal(len, 0);
  }
}

static void on_size(void* user, weft_status status, const char* message, uint64_t size) {
  outcome* o = user;
  note(o, status, message);
  o->number = (int64_t)size;
}

static void on_open(void* user, weft_status status, const char* message, weft_file_t* file) {
  outcome* o = user;
  note(o, status, message);
  o->file = file;
  if (status == WEFT_OK) {
    assert_non_null(file);
  } else {
    assert_null(file);
  }
}

static void on_recv(void* user, weft_status status, const char* message, const void* bytes, size_t len,
                    const weft_address* from, int truncated) {
  outcome* o = user;
  note(o, status, message);
  o->len = len;
  o->bytes_null = bytes == NULL;
  if (len > 0 && len <= sizeof o->bytes) memcpy(o->bytes, bytes, len);
  o->truncated = truncated;
  if (from != NULL) o->address = *from;
  if (status == WEFT_OK) {
    assert_non_null(from);
  } else {
    assert_null(bytes);
    assert_null(from);
    assert_int_equal(len, 0);
    assert_int_equal(truncated, 0);
  }
}

static void on_resolve(void* user, weft_status status, const char* message, const weft_address* addresses,
                       size_t count) {
  outcome* o = user;
  note(o, status, message);
  o->count = count;
  if (status == WEFT_OK) {
    assert_non_null(addresses);
    assert_true(count > 0);
    o->address = addresses[0];
  } else {
    assert_null(addresses);
    assert_int_equal(count, 0);
  }
}

static void on_wait(void* user, weft_status status, const char* message, int64_t exit_code, int term_signal) {
  outcome* o = user;
  note(o, status, message);
  o->number = exit_code;
  o->term_signal = term_signal;
}

static void on_signal(void* user, weft_status status, const char* message, int signum) {
  outcome* o = user;
  note(o, status, message);
  o->number = signum;
}

/* The callback ran once, after the future had completed with the same
 * status and message. */
static void assert_same_outcome(const outcome* o) {
  assert_int_equal(o->calls, 1);
  assert_non_null(o->future);
  assert_true(o->future_done);
  assert_int_equal(o->future_status, o->status);
  assert_string_equal(o->future_message, o->message);
}

static void count_call(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                       const char* message) {
  (void)future;
  (void)status;
  (void)value;
  (void)message;
  ++*(int*)user;
}

/* Runs the loop until `future` has completed. */
static void await_future(weft_loop_t* loop, weft_future_t* future) {
  int done = 0;
  assert_int_equal(weft_future_then(future, loop, count_call, &done), WEFT_OK);
  assert_true(run_until(loop, &done));
}

/* The completed future's value (it must have resolved). */
static weft_value resolved_value(weft_future_t* future, weft_value_kind kind) {
  weft_status status = WEFT_ERR_UNKNOWN;
  weft_value value = weft_value_none();
  const char* message = "not written";
  assert_int_equal(weft_future_result(&status, &value, &message, future), WEFT_OK);
  if (status != WEFT_OK) fail_msg("rejected: %s (%s)", weft_status_name(status), message);
  assert_null(message);
  assert_int_equal(value.kind, kind);
  return value;
}

/* The completed future was rejected with `expected` and a message
 * (containing `contains` if not NULL). */
static void assert_rejected(weft_future_t* future, weft_status expected, const char* contains) {
  weft_status status = WEFT_OK;
  weft_value value = weft_value_int64(7);
  const char* message = NULL;
  assert_int_equal(weft_future_result(&status, &value, &message, future), WEFT_OK);
  assert_int_equal(status, expected);
  assert_int_equal(value.kind, WEFT_VALUE_NONE);
  assert_non_null(message);
  assert_true(message[0] != '\0');
  if (contains != NULL && strstr(message, contains) == NULL) {
    fail_msg("message \"%s\" does not name \"%s\"", message, contains);
  }
}

static void assert_pending(weft_future_t* future) {
  assert_int_equal(weft_future_result(NULL, NULL, NULL, future), WEFT_ERR_NOT_READY);
}

static void assert_bytes_value(weft_future_t* future, const char* text, size_t len) {
  weft_value value = resolved_value(future, WEFT_VALUE_BYTES);
  assert_int_equal(value.as.bytes.size, len);
  if (len > 0) assert_memory_equal(value.as.bytes.data, text, len);
}

static void assert_int64_value(weft_future_t* future, int64_t expected) {
  weft_value value = resolved_value(future, WEFT_VALUE_INT64);
  assert_int_equal(value.as.int64, expected);
}

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

/* ---- files -------------------------------------------------------------- */

typedef struct tmp {
  char dir[512];
  char path[600];
} tmp;

static void tmp_init(tmp* t) {
  const char* base = getenv("TEST_TMPDIR");
  if (base == NULL || base[0] == '\0') base = "/tmp";
  snprintf(t->dir, sizeof(t->dir), "%s/weft_opf_XXXXXX", base);
  assert_non_null(mkdtemp(t->dir));
}

static const char* tmp_path(tmp* t, const char* name) {
  snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
  return t->path;
}

static void test_op_futures__file_futures_without_callbacks(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  char missing[600], data[600], nowhere[600];
  snprintf(missing, sizeof missing, "%s", tmp_path(&t, "missing"));
  snprintf(data, sizeof data, "%s", tmp_path(&t, "data"));
  snprintf(nowhere, sizeof nowhere, "%s", tmp_path(&t, "no/such/dir"));
  weft_future_t* op = NULL;

  /* Failures reject, with a message naming the path. */
  assert_int_equal(weft_file_open(&op, f->loop, missing, WEFT_FILE_READ, NULL, NULL, NULL), WEFT_OK);
  assert_non_null(op);
  await_future(f->loop, op);
  assert_rejected(op, WEFT_ERR_NOT_FOUND, missing);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_read_all(&op, f->loop, missing, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_rejected(op, WEFT_ERR_NOT_FOUND, missing);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_write_all(&op, f->loop, nowhere, "x", 1, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_rejected(op, WEFT_ERR_NOT_FOUND, nowhere);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* write_all: NONE; read_all: BYTES. */
  assert_int_equal(weft_file_write_all(&op, f->loop, data, "hello world", 11, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  resolved_value(op, WEFT_VALUE_NONE);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_read_all(&op, f->loop, data, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_bytes_value(op, "hello world", 11);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* open: a POINTER holding the weft_file_t*. */
  assert_int_equal(weft_file_open(&op, f->loop, data, WEFT_FILE_READ_WRITE, NULL, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  weft_value value = resolved_value(op, WEFT_VALUE_POINTER);
  weft_file_t* file = value.as.pointer.pointer;
  assert_non_null(file);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* write_at: INT64 bytes written; size: INT64; sync: NONE. */
  assert_int_equal(weft_file_write_at(&op, file, 11, "!?", 2, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_int64_value(op, 2);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_size(&op, file, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_int64_value(op, 13);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_sync(&op, file, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  resolved_value(op, WEFT_VALUE_NONE);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* read_at: BYTES; at the end, BYTES of size 0. */
  assert_int_equal(weft_file_read_at(&op, file, 6, 100, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_bytes_value(op, "world!?", 7);
  assert_int_equal(weft_future_release(op), WEFT_OK);
  assert_int_equal(weft_file_read_at(&op, file, 13, 4, NULL, NULL), WEFT_OK);
  await_future(f->loop, op);
  assert_bytes_value(op, NULL, 0);
  assert_int_equal(weft_future_release(op), WEFT_OK);

  /* A refused call gives no future. */
  weft_future_t* refused = NULL;
  assert_int_equal(weft_file_read_at(&refused, file, 0, 0, NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(refused);
  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(weft_file_size(&refused, file, NULL, NULL), WEFT_ERR_STALE_HANDLE);
  assert_null(refused);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

/* A file operation queued behind a held one-worker pool: closing the file
 * rejects its future, cancelled, inside weft_file_close. */
static void test_op_futures__file_close_rejects_pending_futures(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  const char* path = tmp_path(&t, "data");
  weft_pool_options pool_options = WEFT_POOL_OPTIONS_INIT;
  pool_options.threads = 1;
  weft_executor_t* pool = NULL;
  assert_int_equal(weft_pool_create(&pool, f->runtime, &pool_options), WEFT_OK);
  weft_file_options options;
  assert_int_equal(weft_file_options_init(&options, sizeof options), WEFT_OK);
  options.executor = pool;

  weft_future_t* opened = NULL;
  assert_int_equal(
      weft_file_open(&opened, f->loop, path, WEFT_FILE_READ_WRITE | WEFT_FILE_CREATE, &options, NULL, NULL),
      WEFT_OK);
  await_future(f->loop, opened);
  weft_file_t* file = resolved_value(opened, WEFT_VALUE_POINTER).as.pointer.pointer;

  gate again = GATE_INIT;
  assert_int_equal(weft_executor_submit(NULL, pool, f->loop, wait_at_gate, NULL, &again), WEFT_OK);
  gate_wait_entered(&again, 1);
  weft_future_t *read = NULL, *written = NULL, *size = NULL;
  outcome synced = {0};
  assert_int_equal(weft_file_read_at(&read, file, 0, 8, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_write_at(&written, file, 0, "x", 1, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_size(&size, file, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_file_sync(&synced.future, file, on_done, &synced), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_pending(read);
  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_rejected(read, WEFT_ERR_CANCELLED, NULL);
  assert_rejected(written, WEFT_ERR_CANCELLED, NULL);
  assert_rejected(size, WEFT_ERR_CANCELLED, NULL);
  assert_same_outcome(&synced);
  assert_int_equal(synced.status, WEFT_ERR_CANCELLED);
  gate_open(&again);
  assert_int_equal(weft_executor_destroy(pool), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(synced.calls, 1);
  weft_future_release(opened);
  weft_future_release(read);
  weft_future_release(written);
  weft_future_release(size);
  weft_future_release(synced.future);
}

static void test_op_futures__file_callback_and_future_see_the_same_outcome(void** state) {
  fixture* f = FIXTURE(state);
  tmp t;
  tmp_init(&t);
  char data[600], missing[600];
  snprintf(data, sizeof data, "%s", tmp_path(&t, "data"));
  snprintf(missing, sizeof missing, "%s", tmp_path(&t, "missing"));

  outcome all_written = {0};
  assert_int_equal(
      weft_file_write_all(&all_written.future, f->loop, data, "abcdef", 6, NULL, on_done, &all_written),
      WEFT_OK);
  assert_true(run_until(f->loop, &all_written.calls));
  assert_same_outcome(&all_written);
  assert_int_equal(all_written.status, WEFT_OK);
  assert_int_equal(all_written.future_kind, WEFT_VALUE_NONE);

  outcome all_read = {0};
  assert_int_equal(weft_file_read_all(&all_read.future, f->loop, data, NULL, on_bytes, &all_read), WEFT_OK);
  assert_true(run_until(f->loop, &all_read.calls));
  assert_same_outcome(&all_read);
  assert_int_equal(all_read.status, WEFT_OK);
  assert_int_equal(all_read.len, 6);
  assert_memory_equal(all_read.bytes, "abcdef", 6);
  assert_bytes_value(all_read.future, "abcdef", 6);

  outcome opened = {0};
  assert_int_equal(weft_file_open(&opened.future, f->loop, data, WEFT_FILE_READ_WRITE, NULL, on_open, &opened),
                   WEFT_OK);
  assert_true(run_until(f->loop, &opened.calls));
  assert_same_outcome(&opened);
  assert_int_equal(opened.status, WEFT_OK);
  /* The same file, once: the future's pointer is the callback's handle. */
  weft_value value = resolved_value(opened.future, WEFT_VALUE_POINTER);
  assert_ptr_equal(value.as.pointer.pointer, opened.file);
  weft_file_t* file = opened.file;

  outcome written = {0}, size = {0}, synced = {0}, read = {0};
  assert_int_equal(weft_file_write_at(&written.future, file, 6, "gh", 2, on_size, &written), WEFT_OK);
  assert_true(run_until(f->loop, &written.calls));
  assert_same_outcome(&written);
  assert_int_equal(written.status, WEFT_OK);
  assert_int_equal(written.number, 2);
  assert_int64_value(written.future, 2);

  assert_int_equal(weft_file_size(&size.future, file, on_size, &size), WEFT_OK);
  assert_true(run_until(f->loop, &size.calls));
  assert_same_outcome(&size);
  assert_int_equal(size.number, 8);
  assert_int64_value(size.future, 8);

  assert_int_equal(weft_file_sync(&synced.future, file, on_done, &synced), WEFT_OK);
  assert_true(run_until(f->loop, &synced.calls));
  assert_same_outcome(&synced);
  assert_int_equal(synced.status, WEFT_OK);
  assert_int_equal(synced.future_kind, WEFT_VALUE_NONE);

  assert_int_equal(weft_file_read_at(&read.future, file, 2, 4, on_bytes, &read), WEFT_OK);
  assert_true(run_until(f->loop, &read.calls));
  assert_same_outcome(&read);
  assert_int_equal(read.len, 4);
  assert_memory_equal(read.bytes, "cdef", 4);
  assert_bytes_value(read.future, "cdef", 4);

  /* Failures: the same status and message on both sides. */
  outcome not_found = {0}, read_missing = {0};
  assert_int_equal(
      weft_file_open(&not_found.future, f->loop, missing, WEFT_FILE_READ, NULL, on_open, &not_found), WEFT_OK);
  assert_int_equal(weft_file_read_all(&read_missing.future, f->loop, missing, NULL, on_bytes, &read_missing),
                   WEFT_OK);
  assert_true(run_until(f->loop, &not_found.calls));
  assert_true(run_until(f->loop, &read_missing.calls));
  assert_same_outcome(&not_found);
  assert_int_equal(not_found.status, WEFT_ERR_NOT_FOUND);
  assert_non_null(strstr(not_found.message, missing));
  assert_same_outcome(&read_missing);
  assert_int_equal(read_missing.status, WEFT_ERR_NOT_FOUND);
  assert_true(read_missing.bytes_null);

  assert_int_equal(weft_file_close(file), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  outcome* all[] = {&all_written, &all_read, &opened, &written, &size, &synced, &read, &not_found, &read_missing};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) {
    assert_int_equal(all[i]->calls, 1);
    assert_int_equal(weft_future_release(all[i]->future), WEFT_OK);
  }
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

static void test_op_futures__options_init_fills_defaults(void** state) {
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
static void test_op_futures__initialised_options_are_accepted(void** state) {
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
      cmocka_unit_test_setup_teardown(test_op_futures__udp_futures_without_callbacks, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__udp_callback_and_future_see_the_same_outcome,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__cancelling_a_udp_receive_leaves_the_datagram_for_the_next,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__resolve, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__file_futures_without_callbacks, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__file_close_rejects_pending_futures, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__file_callback_and_future_see_the_same_outcome,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__process_wait, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__signal_wait, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__timer_futures_without_callbacks, fixture_setup_manual,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_op_futures__timer_callback_and_future_see_the_same_outcome,
                                      fixture_setup_manual, fixture_teardown),
      cmocka_unit_test(test_op_futures__options_init_fills_defaults),
      cmocka_unit_test_setup_teardown(test_op_futures__initialised_options_are_accepted, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
