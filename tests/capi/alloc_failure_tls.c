/* The sweep's TLS scenarios (alloc_failure.h): contexts, and handshakes over
 * a pipe pair, a refused weft_tls_accept/connect leaving its stream the
 * caller's; and the TLS streams the stream scenarios run over
 * (alloc_failure_streams.c). Certificates are made once per run
 * (tests/tls_certs). */
#include <string.h>

#include "tests/capi/alloc_failure.h"
#include "tests/tls_certs/test_pki.h"

static test_pki g_pki; /* made once, by tls_sweep_start */
static weft_tls_context_t* g_tls_server;
static weft_tls_context_t* g_tls_client;

int tls_sweep_start(void) { return test_pki_make(&g_pki, "weft sweep CA", "localhost", "127.0.0.1"); }

void tls_sweep_end(void) { test_pki_free(&g_pki); }

static weft_status tls_context_create(fixture* f, weft_tls_role role, weft_tls_context_t** out) {
  weft_tls_context_options o = WEFT_TLS_CONTEXT_OPTIONS_INIT;
  if (role == WEFT_TLS_SERVER) {
    o.cert_pem = g_pki.server_cert;
    o.key_pem = g_pki.server_key;
  } else {
    o.ca_pem = g_pki.ca_cert;
  }
  return weft_tls_context_create(out, f->loop, role, &o);
}

void tls_pair_done(void) {
  assert_int_equal(weft_tls_context_destroy(g_tls_server), WEFT_OK);
  assert_int_equal(weft_tls_context_destroy(g_tls_client), WEFT_OK);
  g_tls_server = g_tls_client = NULL;
}

/* Both handshakes over a pipe pair, with the contexts in g_tls_*. With
 * `armed`, each call runs under the refusal: a refused call must leave its
 * stream the caller's (the unarmed retry uses it) and call nothing back; an
 * accepted one calls back once. Either way both handshakes then succeed. */
static void tls_handshake(fixture* f, int armed, weft_stream_t** client, weft_stream_t** server) {
  weft_stream_t *a, *b;
  stream_pair_open(f, &a, &b);
  stream_record accepted = {0}, connected = {0};
  if (armed) arm(f);
  weft_status accepting = weft_tls_accept(NULL, b, g_tls_server, record_stream, &accepted);
  if (armed) disarm(f);
  check_call_status(accepting);
  if (accepting != WEFT_OK) {
    assert_int_equal(weft_tls_accept(NULL, b, g_tls_server, record_stream, &accepted), WEFT_OK);
  }
  if (armed) arm(f);
  weft_status connecting = weft_tls_connect(NULL, a, g_tls_client, "localhost", record_stream, &connected);
  if (armed) disarm(f);
  check_call_status(connecting);
  if (connecting != WEFT_OK) {
    assert_int_equal(weft_tls_connect(NULL, a, g_tls_client, "localhost", record_stream, &connected), WEFT_OK);
  }
  assert_true(run_until(f->loop, &accepted.calls));
  assert_true(run_until(f->loop, &connected.calls));
  spin_loop(f->loop, 3);
  assert_int_equal(accepted.calls, 1);
  assert_int_equal(connected.calls, 1);
  assert_int_equal(accepted.status, WEFT_OK);
  assert_int_equal(connected.status, WEFT_OK);
  *client = connected.stream;
  *server = accepted.stream;
}

void tls_pair_open(fixture* f, weft_stream_t** client, weft_stream_t** server) {
  assert_int_equal(tls_context_create(f, WEFT_TLS_SERVER, &g_tls_server), WEFT_OK);
  assert_int_equal(tls_context_create(f, WEFT_TLS_CLIENT, &g_tls_client), WEFT_OK);
  tls_handshake(f, 0, client, server);
}

static void tls_context_scenario(fixture* f) {
  const weft_tls_role roles[] = {WEFT_TLS_SERVER, WEFT_TLS_CLIENT};
  for (size_t i = 0; i < 2; ++i) {
    weft_tls_context_t* context = NULL;
    arm(f);
    weft_status status = tls_context_create(f, roles[i], &context);
    disarm(f);
    check_call_status(status);
    if (status != WEFT_OK) {
      assert_null(context);
      continue;
    }
    assert_int_equal(weft_tls_context_destroy(context), WEFT_OK);
  }
}

/* A refused weft_tls_accept/connect leaves the stream usable; the data goes
 * through whole once both handshakes are done. */
static void tls_handshake_scenario(fixture* f) {
  assert_int_equal(tls_context_create(f, WEFT_TLS_SERVER, &g_tls_server), WEFT_OK);
  assert_int_equal(tls_context_create(f, WEFT_TLS_CLIENT, &g_tls_client), WEFT_OK);
  weft_stream_t *client, *server;
  tls_handshake(f, 1, &client, &server);
  stream_write_text(client, "over tls!");
  read_record got;
  read_to_mark(f, server, &got);
  assert_int_equal(got.status, WEFT_OK);
  assert_int_equal(got.len, 9);
  assert_memory_equal(got.bytes, "over tls!", 9);
  assert_int_equal(weft_stream_close(client), WEFT_OK);
  assert_int_equal(weft_stream_close(server), WEFT_OK);
  tls_pair_done();
}

void test_alloc_failure__tls_context_and_handshake(void** state) {
  (void)state;
  sweep(tls_context_scenario);
  sweep(tls_handshake_scenario);
}
