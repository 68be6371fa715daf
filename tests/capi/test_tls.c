/* TLS through the C API (weft/tls.h): contexts and their bad input, a round
 * trip over TCP with every weft_stream_* function on the TLS stream, ALPN
 * and SNI through weft_tls_get_info, handshake failures with their statuses
 * (wrong host, untrusted CA, plain-text peer, handshake timeout), cancelling
 * a handshake through its future, close_notify as end of stream, and the
 * rule that a refused call leaves the stream the caller's while an accepted
 * one ends its handle. Certificates are made at test time
 * (tests/tls_certs). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdlib.h>
#include <string.h>

#include "tests/capi/support.h"
#include "tests/tls_certs/test_pki.h"

static test_pki g_pki;
static test_pki g_other_pki;

static weft_tls_context_t* server_context(fixture* f, const char* const* alpn, size_t alpn_count) {
  weft_tls_context_options o = WEFT_TLS_CONTEXT_OPTIONS_INIT;
  o.cert_pem = g_pki.server_cert;
  o.key_pem = g_pki.server_key;
  o.alpn = alpn;
  o.alpn_count = alpn_count;
  weft_tls_context_t* ctx = NULL;
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_SERVER, &o), WEFT_OK);
  assert_non_null(ctx);
  return ctx;
}

static weft_tls_context_t* client_context(fixture* f, const test_pki* trusted, const char* const* alpn,
                                          size_t alpn_count, uint64_t timeout_ns) {
  weft_tls_context_options o = WEFT_TLS_CONTEXT_OPTIONS_INIT;
  o.ca_pem = trusted->ca_cert;
  o.alpn = alpn;
  o.alpn_count = alpn_count;
  o.handshake_timeout_ns = timeout_ns;
  weft_tls_context_t* ctx = NULL;
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_CLIENT, &o), WEFT_OK);
  return ctx;
}

typedef struct handshake {
  stream_record client;
  stream_record server;
} handshake;

/* Runs both handshakes over a fresh TCP pair; the records say how each
 * ended. */
static void handshake_both(fixture* f, weft_tcp_listener_t* listener, uint16_t port, weft_tls_context_t* cctx,
                           weft_tls_context_t* sctx, const char* server_name, handshake* h) {
  weft_stream_t *tcp_client, *tcp_server;
  tcp_connect_pair(f, listener, port, &tcp_client, &tcp_server);
  memset(h, 0, sizeof(*h));
  assert_int_equal(weft_tls_accept(NULL, tcp_server, sctx, record_stream, &h->server), WEFT_OK);
  assert_int_equal(weft_tls_connect(NULL, tcp_client, cctx, server_name, record_stream, &h->client), WEFT_OK);
  /* The TCP handles belong to the TLS streams now. */
  assert_int_equal(weft_stream_close(tcp_client), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(tcp_server), WEFT_ERR_STALE_HANDLE);
  assert_true(run_until(f->loop, &h->client.calls));
  assert_true(run_until(f->loop, &h->server.calls));
}

static void test_tls__round_trip_alpn_sni_and_close_notify(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  const char* const server_alpn[] = {"h2", "http/1.1"};
  const char* const client_alpn[] = {"http/1.1", "h2"};
  weft_tls_context_t* sctx = server_context(f, server_alpn, 2);
  weft_tls_context_t* cctx = client_context(f, &g_pki, client_alpn, 2, 0);
  handshake h;
  handshake_both(f, listener, port, cctx, sctx, "localhost", &h);
  assert_int_equal(h.client.status, WEFT_OK);
  assert_int_equal(h.server.status, WEFT_OK);
  weft_stream_t* client = h.client.stream;
  weft_stream_t* server = h.server.stream;

  weft_tls_info info = WEFT_TLS_INFO_INIT;
  assert_int_equal(weft_tls_get_info(&info, client), WEFT_OK);
  assert_int_equal(info.peer_verified, 1);
  assert_string_equal(info.alpn, "h2");
  assert_string_equal(info.server_name, "localhost");
  assert_string_equal(info.version, "TLSv1.3");
  assert_true(strlen(info.cipher) > 0);
  weft_tls_info at_server = WEFT_TLS_INFO_INIT;
  assert_int_equal(weft_tls_get_info(&at_server, server), WEFT_OK);
  assert_string_equal(at_server.alpn, "h2");
  assert_string_equal(at_server.server_name, "localhost");
  assert_int_equal(at_server.peer_verified, 0);

  /* Every stream function works on a TLS stream. */
  call_record written = {0};
  read_record line = {0}, exact = {0};
  assert_int_equal(weft_stream_write(NULL, client, "hello\nworld", 11, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_read_until(NULL, server, "\n", 1, 100, record_read, &line), WEFT_OK);
  assert_true(run_until(f->loop, &line.calls));
  assert_int_equal(line.status, WEFT_OK);
  assert_int_equal(line.len, 6);
  assert_memory_equal(line.bytes, "hello\n", 6);
  assert_int_equal(weft_stream_read_exactly(NULL, server, 5, record_read, &exact), WEFT_OK);
  assert_true(run_until(f->loop, &exact.calls));
  assert_memory_equal(exact.bytes, "world", 5);
  assert_true(run_until(f->loop, &written.calls));
  assert_int_equal(written.status, WEFT_OK);
  size_t buffered = 99;
  assert_int_equal(weft_stream_write_buffered(&buffered, client), WEFT_OK);
  assert_int_equal(buffered, 0);
  assert_int_equal(weft_stream_read_buffered(&buffered, server), WEFT_OK);
  assert_int_equal(buffered, 0);
  weft_stream_limits limits = WEFT_STREAM_LIMITS_INIT;
  limits.write_high_water = 64 * 1024;
  assert_int_equal(weft_stream_set_limits(client, &limits), WEFT_OK);
  call_record drained = {0};
  assert_int_equal(weft_stream_drain(NULL, client, record_callback, &drained), WEFT_OK);
  assert_true(run_until(f->loop, &drained.calls));
  assert_int_equal(drained.status, WEFT_OK);
  /* TCP-only functions refuse a TLS stream. */
  assert_int_equal(weft_tcp_set_nodelay(client, 1), WEFT_ERR_INVALID_HANDLE);

  /* shutdown sends close_notify: the peer reads its bytes, then the end. */
  call_record shut = {0};
  read_record reply = {0}, end = {0};
  assert_int_equal(weft_stream_write(NULL, server, "bye", 3, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_shutdown(NULL, server, record_callback, &shut), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, client, 64, record_read, &reply), WEFT_OK);
  assert_true(run_until(f->loop, &reply.calls));
  assert_memory_equal(reply.bytes, "bye", 3);
  assert_int_equal(weft_stream_read(NULL, client, 64, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(shut.status, WEFT_OK);

  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  /* A context may go before or after its streams. */
  assert_int_equal(weft_tls_context_destroy(cctx), WEFT_OK);
  assert_int_equal(weft_tls_context_destroy(sctx), WEFT_OK);
  assert_int_equal(weft_tls_context_destroy(sctx), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_tls_context_destroy(NULL), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_tls__handshake_failures_have_their_statuses(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_tls_context_t* sctx = server_context(f, NULL, 0);
  weft_tls_context_t* cctx = client_context(f, &g_pki, NULL, 0, 0);
  weft_tls_context_t* untrusting = client_context(f, &g_other_pki, NULL, 0, 0);
  handshake h;

  handshake_both(f, listener, port, cctx, sctx, "example.com", &h);
  assert_int_equal(h.client.status, WEFT_ERR_TLS_HOST_MISMATCH);
  assert_null(h.client.stream);
  assert_non_null(strstr(h.client.message, "example.com"));
  assert_int_equal(h.server.status, WEFT_ERR_TLS_HANDSHAKE_FAILED);

  handshake_both(f, listener, port, untrusting, sctx, "localhost", &h);
  assert_int_equal(h.client.status, WEFT_ERR_TLS_CERTIFICATE_UNTRUSTED);
  assert_non_null(strstr(h.client.message, "certificate verify failed"));

  /* A plain-text server. */
  weft_stream_t *tcp_client, *tcp_server;
  tcp_connect_pair(f, listener, port, &tcp_client, &tcp_server);
  stream_record plain = {0};
  read_record hello = {0};
  assert_int_equal(weft_tls_connect(NULL, tcp_client, cctx, "localhost", record_stream, &plain), WEFT_OK);
  assert_int_equal(weft_stream_read(NULL, tcp_server, 4096, record_read, &hello), WEFT_OK);
  assert_true(run_until(f->loop, &hello.calls));
  stream_write_text(tcp_server, "HTTP/1.1 400 Bad Request\r\n\r\n");
  assert_true(run_until(f->loop, &plain.calls));
  assert_int_equal(plain.status, WEFT_ERR_TLS_HANDSHAKE_FAILED);
  assert_non_null(strstr(plain.message, "wrong version number"));
  assert_int_equal(weft_stream_close(tcp_server), WEFT_OK);

  /* A silent server: the context's handshake timeout. */
  weft_tls_context_t* hasty = client_context(f, &g_pki, NULL, 0, WEFT_MS(100));
  tcp_connect_pair(f, listener, port, &tcp_client, &tcp_server);
  stream_record timed = {0};
  assert_int_equal(weft_tls_connect(NULL, tcp_client, hasty, "localhost", record_stream, &timed), WEFT_OK);
  assert_true(run_until(f->loop, &timed.calls));
  assert_int_equal(timed.status, WEFT_ERR_TIMED_OUT);
  assert_non_null(strstr(timed.message, "timed out"));
  assert_int_equal(weft_stream_close(tcp_server), WEFT_OK);

  assert_int_equal(weft_tls_context_destroy(hasty), WEFT_OK);
  assert_int_equal(weft_tls_context_destroy(untrusting), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  /* The runtime's teardown ends the two contexts left. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_tls__cancelling_the_handshake_future(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_tls_context_t* cctx = client_context(f, &g_pki, NULL, 0, 0);
  weft_stream_t *tcp_client, *tcp_server;
  tcp_connect_pair(f, listener, port, &tcp_client, &tcp_server);
  weft_future_t* future = NULL;
  stream_record outcome = {0};
  read_record hello = {0}, end = {0};
  assert_int_equal(weft_tls_connect(&future, tcp_client, cctx, "localhost", record_stream, &outcome), WEFT_OK);
  assert_non_null(future);
  assert_int_equal(weft_stream_read(NULL, tcp_server, 4096, record_read, &hello), WEFT_OK);
  assert_true(run_until(f->loop, &hello.calls));  /* the ClientHello came */
  assert_int_equal(weft_future_cancel(future), WEFT_OK);
  assert_true(run_until(f->loop, &outcome.calls));
  assert_int_equal(outcome.status, WEFT_ERR_CANCELLED);
  assert_null(outcome.stream);
  /* The connection was closed. */
  assert_int_equal(weft_stream_read(NULL, tcp_server, 4096, record_read, &end), WEFT_OK);
  assert_true(run_until(f->loop, &end.calls));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(weft_future_release(future), WEFT_OK);
  assert_int_equal(weft_stream_close(tcp_server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void never_called_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  (void)user;
  (void)status;
  (void)message;
  (void)stream;
  fail_msg("a refused call's callback ran");
}

static void test_tls__bad_input_leaves_everything_as_it_was(void** state) {
  fixture* f = FIXTURE(state);
  weft_tls_context_t* ctx = NULL;
  weft_tls_context_options o = WEFT_TLS_CONTEXT_OPTIONS_INIT;
  assert_int_equal(weft_tls_context_create(NULL, f->loop, WEFT_TLS_CLIENT, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tls_context_create(&ctx, NULL, WEFT_TLS_CLIENT, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, (weft_tls_role)7, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_SERVER, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_SERVER, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.verify = (weft_tls_verify)-1;
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_CLIENT, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.verify = WEFT_TLS_VERIFY_DEFAULT;
  o.ca_file = "/nonexistent/ca.pem";
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_CLIENT, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.ca_file = NULL;
  o.alpn_count = 1;
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_CLIENT, &o), WEFT_ERR_INVALID_ARGUMENT);
  const char* const too_long[] = {""};
  o.alpn = too_long;
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_CLIENT, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.alpn_count = 0;
  o.struct_size = 8;
  assert_int_equal(weft_tls_context_create(&ctx, f->loop, WEFT_TLS_CLIENT, &o), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(ctx);
  weft_tls_context_options inited;
  assert_int_equal(weft_tls_context_options_init(&inited, sizeof inited), WEFT_OK);
  assert_int_equal(inited.struct_size, sizeof inited);
  assert_int_equal(weft_tls_context_options_init(NULL, sizeof inited), WEFT_ERR_INVALID_ARGUMENT);

  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_tls_context_t* cctx = client_context(f, &g_pki, NULL, 0, 0);
  weft_tls_context_t* sctx = server_context(f, NULL, 0);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);
  /* Each refusal leaves the stream open and the caller's. */
  assert_int_equal(weft_tls_connect(NULL, client, cctx, "localhost", NULL, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tls_connect(NULL, client, sctx, "localhost", never_called_stream, NULL),
                   WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tls_accept(NULL, server, cctx, never_called_stream, NULL), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_tls_connect(NULL, NULL, cctx, "localhost", never_called_stream, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tls_connect(NULL, client, NULL, "localhost", never_called_stream, NULL),
                   WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_tls_connect(NULL, client, (weft_tls_context_t*)listener, "localhost", never_called_stream,
                                    NULL),
                   WEFT_ERR_INVALID_HANDLE);
  read_record pending = {0};
  assert_int_equal(weft_stream_read(NULL, client, 16, record_read, &pending), WEFT_OK);
  assert_int_equal(weft_tls_connect(NULL, client, cctx, "localhost", never_called_stream, NULL),
                   WEFT_ERR_INVALID_STATE);
  weft_tls_info info = WEFT_TLS_INFO_INIT;
  assert_int_equal(weft_tls_get_info(&info, client), WEFT_ERR_INVALID_HANDLE);
  /* The stream still works. */
  stream_write_text(server, "still here");
  assert_true(run_until(f->loop, &pending.calls));
  assert_int_equal(pending.status, WEFT_OK);
  assert_memory_equal(pending.bytes, "still here", 10);

  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  assert_int_equal(weft_tcp_listener_close(listener), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_tls__runtime_destroy_mid_handshake(void** state) {
  fixture* f = FIXTURE(state);
  uint16_t port = 0;
  weft_tcp_listener_t* listener = tcp_listen_loopback(f, &port);
  weft_tls_context_t* sctx = server_context(f, NULL, 0);
  weft_tls_context_t* cctx = client_context(f, &g_pki, NULL, 0, 0);
  weft_stream_t *client, *server;
  tcp_connect_pair(f, listener, port, &client, &server);
  stream_record accepting = {0}, connecting = {0};
  weft_future_t* future = NULL;
  assert_int_equal(weft_tls_accept(NULL, server, sctx, record_stream, &accepting), WEFT_OK);
  assert_int_equal(weft_tls_connect(&future, client, cctx, "localhost", record_stream, &connecting), WEFT_OK);
  spin_loop(f->loop, 1);
  /* Destroying the runtime cancels both handshakes, each exactly once, and
   * frees everything (the contexts too). */
  assert_int_equal(weft_future_release(future), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(accepting.calls, 1);
  assert_int_equal(connecting.calls, 1);
  assert_int_equal(accepting.status, WEFT_ERR_CANCELLED);
  assert_int_equal(connecting.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

int main(void) {
  if (test_pki_make(&g_pki, "weft test CA", "localhost", "127.0.0.1") != 0) return 1;
  if (test_pki_make(&g_other_pki, "another CA", "localhost", "127.0.0.1") != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tls__round_trip_alpn_sni_and_close_notify, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tls__handshake_failures_have_their_statuses, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tls__cancelling_the_handshake_future, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tls__bad_input_leaves_everything_as_it_was, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_tls__runtime_destroy_mid_handshake, fixture_setup, fixture_teardown),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  test_pki_free(&g_pki);
  test_pki_free(&g_other_pki);
  return failed;
}
