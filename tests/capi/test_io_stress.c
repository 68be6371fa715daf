/* Many I/O operations at once through the C API, bounded in count and time:
 * 200 TCP connections echoing through one listener (some clients leave
 * mid-conversation), and 64 files written and read back at once on a
 * 2-worker pool (some closed with their operations still pending). Checks
 * that every callback runs exactly once, that every byte comes back, and
 * (the fixture) that nothing leaks. Runs under asan and tsan like the rest. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/support.h"

enum { kClients = 200, kMessages = 4, kMessageSize = 32 };

/* ---- TCP ------------------------------------------------------------------ */

typedef struct echo_world echo_world;

/* One server-side connection: one operation pending at a time. */
typedef struct server_conn {
  echo_world* world;
  weft_stream_t* stream;
} server_conn;

/* One client: sends a message, reads its echo whole, sends the next. */
typedef struct client {
  echo_world* world;
  int index;
  weft_stream_t* stream;
  int sent;              /* messages sent */
  int echoed;            /* messages fully echoed */
  char expected[kMessageSize];
  int connect_calls, read_calls, write_calls;
  int leaves_early;      /* closes after two echoes */
  int finished;
} client;

struct echo_world {
  weft_loop_t* loop;
  weft_tcp_listener_t* listener;
  uint16_t port;
  client clients[kClients];
  int finished;          /* clients done (or gone) */
  int server_open;       /* server connections not yet closed */
  int accepted;
  int accept_cancelled;
  int failures;
  int all_done;          /* every client finished and every server connection closed */
};

static void check_done(echo_world* w) {
  if (w->finished == kClients && w->server_open == 0) w->all_done = 1;
}

static void server_read_next(server_conn* c);

static void server_done(server_conn* c) {
  echo_world* w = c->world;
  w->server_open--;
  weft_stream_close(c->stream);
  free(c);
  check_done(w);
}

static void server_written(void* user, weft_status status, const char* message) {
  server_conn* c = user;
  check_message(status, message, NULL, 0);
  if (status == WEFT_OK) {
    server_read_next(c);
  } else if (status == WEFT_ERR_CANCELLED) {
    c->world->failures++; /* the test ends its connections itself */
    free(c);
  } else {
    server_done(c);
  }
}

static void server_read(void* user, weft_status status, const char* message, const void* bytes,
                        size_t len) {
  server_conn* c = user;
  check_message(status, message, NULL, 0);
  if (status == WEFT_OK) {
    if (weft_stream_write(NULL, c->stream, bytes, len, server_written, c) != WEFT_OK) server_done(c);
  } else if (status == WEFT_ERR_CANCELLED) {
    c->world->failures++;
    free(c);
  } else {
    server_done(c); /* the client left: end of stream or reset */
  }
}

static void server_read_next(server_conn* c) {
  if (weft_stream_read(NULL, c->stream, 4096, server_read, c) != WEFT_OK) server_done(c);
}

static void on_accept(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  echo_world* w = user;
  check_message(status, message, NULL, 0);
  if (status == WEFT_ERR_CANCELLED) {
    w->accept_cancelled++;
    return;
  }
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(weft_tcp_accept(NULL, w->listener, on_accept, w), WEFT_OK);
  server_conn* c = malloc(sizeof *c);
  assert_non_null(c);
  c->world = w;
  c->stream = stream;
  w->accepted++;
  w->server_open++;
  server_read_next(c);
}

static void client_finish(client* c) {
  c->finished = 1;
  c->world->finished++;
  assert_int_equal(weft_stream_close(c->stream), WEFT_OK);
  check_done(c->world);
}

static void client_send(client* c);

static void client_read(void* user, weft_status status, const char* message, const void* bytes,
                        size_t len);

static void client_read_more(client* c) {
  assert_int_equal(weft_stream_read_exactly(NULL, c->stream, kMessageSize,
                                            client_read, c),
                   WEFT_OK);
}

static void client_read(void* user, weft_status status, const char* message, const void* bytes,
                        size_t len) {
  client* c = user;
  check_message(status, message, NULL, 0);
  c->read_calls++;
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(len, kMessageSize);
  assert_memory_equal(bytes, c->expected, kMessageSize);
  c->echoed++;
  if (c->echoed == kMessages || (c->leaves_early && c->echoed == 2)) {
    client_finish(c);
  } else {
    client_send(c);
  }
}

static void client_written(void* user, weft_status status, const char* message) {
  client* c = user;
  check_message(status, message, NULL, 0);
  c->write_calls++;
  /* A client that leaves early may see its last write cancelled by close. */
  if (status != WEFT_OK && !(status == WEFT_ERR_CANCELLED && c->finished)) c->world->failures++;
}

static void client_send(client* c) {
  for (int i = 0; i < kMessageSize; ++i) c->expected[i] = (char)('a' + (c->index + c->sent + i) % 26);
  c->sent++;
  assert_int_equal(weft_stream_write(NULL, c->stream, c->expected, kMessageSize, client_written, c), WEFT_OK);
  client_read_more(c);
}

static void on_connect(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  client* c = user;
  check_message(status, message, NULL, 0);
  c->connect_calls++;
  assert_int_equal(status, WEFT_OK);
  c->stream = stream;
  client_send(c);
}

static void test_io_stress__many_tcp_connections_echo(void** state) {
  fixture* f = FIXTURE(state);
  echo_world* w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->loop = f->loop;
  assert_int_equal(weft_tcp_listen(&w->listener, f->loop, "127.0.0.1", 0, NULL), WEFT_OK);
  assert_int_equal(weft_tcp_listener_port(&w->port, w->listener), WEFT_OK);
  assert_int_equal(weft_tcp_accept(NULL, w->listener, on_accept, w), WEFT_OK);
  for (int i = 0; i < kClients; ++i) {
    client* c = &w->clients[i];
    c->world = w;
    c->index = i;
    c->leaves_early = i % 7 == 3;
    assert_int_equal(weft_tcp_connect(NULL, f->loop, "127.0.0.1", w->port, WEFT_SEC(5), on_connect, c), WEFT_OK);
  }
  /* Every client finishes, then every server connection sees its client go. */
  for (int round = 0; round < 6 && !w->all_done; ++round) (void)run_until(f->loop, &w->all_done);
  assert_int_equal(w->finished, kClients);
  assert_int_equal(w->accepted, kClients);
  assert_int_equal(w->server_open, 0);
  assert_int_equal(w->failures, 0);
  for (int i = 0; i < kClients; ++i) {
    client* c = &w->clients[i];
    const int echoes = c->leaves_early ? 2 : kMessages;
    assert_int_equal(c->connect_calls, 1);
    assert_int_equal(c->echoed, echoes);
    assert_int_equal(c->read_calls, echoes);
    assert_int_equal(c->write_calls, c->sent);
  }
  /* The one accept still pending is cancelled by the close, once. */
  assert_int_equal(weft_tcp_listener_close(w->listener), WEFT_OK);
  assert_int_equal(w->accept_cancelled, 1);
  free(w);
}

/* ---- files ---------------------------------------------------------------- */

enum { kFiles = 64, kChunks = 4, kChunk = 1024 };

typedef struct file_job {
  int index;
  weft_file_t* file;
  int open_calls, write_calls, read_calls;
  int writes_ok, writes_cancelled;
  int verified;
  int closed_early; /* closed with its writes pending */
  struct file_world* world;
} file_job;

typedef struct file_world {
  int done;     /* jobs finished */
  int all_done; /* done == kFiles */
} file_world;

static void job_done(file_job* j) {
  if (++j->world->done == kFiles) j->world->all_done = 1;
}

static void fill(file_job* j, int chunk, char* out) {
  for (int i = 0; i < kChunk; ++i) out[i] = (char)((j->index * 31 + chunk * 7 + i) & 0xFF);
}

static void on_file_read(void* user, weft_status status, const char* message, const void* bytes,
                         size_t len) {
  file_job* j = user;
  check_message(status, message, NULL, 0);
  j->read_calls++;
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(len, kChunks * kChunk);
  char chunk[kChunk];
  for (int c = 0; c < kChunks; ++c) {
    fill(j, c, chunk);
    assert_memory_equal((const char*)bytes + c * kChunk, chunk, kChunk);
  }
  j->verified = 1;
  assert_int_equal(weft_file_close(j->file), WEFT_OK);
  job_done(j);
}

static void on_file_written(void* user, weft_status status, const char* message, uint64_t size) {
  file_job* j = user;
  check_message(status, message, NULL, 0);
  j->write_calls++;
  if (status == WEFT_ERR_CANCELLED) {
    j->writes_cancelled++;
    return;
  }
  assert_int_equal(status, WEFT_OK);
  assert_int_equal(size, kChunk);
  if (++j->writes_ok == kChunks) {
    assert_int_equal(weft_file_read_at(NULL, j->file, 0, kChunks * kChunk + 100, on_file_read, j), WEFT_OK);
  }
}

static void on_file_open(void* user, weft_status status, const char* message, weft_file_t* file) {
  file_job* j = user;
  check_message(status, message, NULL, 0);
  j->open_calls++;
  assert_int_equal(status, WEFT_OK);
  j->file = file;
  char chunk[kChunk];
  /* All chunks at once, last first: several writes in flight per file. */
  for (int c = kChunks - 1; c >= 0; --c) {
    fill(j, c, chunk); /* copied during the call */
    assert_int_equal(weft_file_write_at(NULL, file, (uint64_t)c * kChunk, chunk, kChunk, on_file_written, j),
                     WEFT_OK);
  }
  if (j->closed_early) {
    /* Whatever has not run yet is cancelled, each callback once, right here. */
    assert_int_equal(weft_file_close(file), WEFT_OK);
    assert_int_equal(j->write_calls, kChunks);
    job_done(j);
  }
}

static void test_io_stress__many_files_at_once(void** state) {
  fixture* f = FIXTURE(state);
  char dir[256];
  const char* base = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof dir, "%s/filesXXXXXX", base != NULL ? base : "/tmp");
  assert_non_null(mkdtemp(dir));
  file_job* jobs = calloc(kFiles, sizeof *jobs);
  assert_non_null(jobs);
  file_world world = {0, 0};
  char path[320];
  for (int i = 0; i < kFiles; ++i) {
    jobs[i].index = i;
    jobs[i].closed_early = i % 5 == 2;
    jobs[i].world = &world;
    snprintf(path, sizeof path, "%s/f%d", dir, i);
    assert_int_equal(weft_file_open(NULL, f->loop, path, WEFT_FILE_READ_WRITE | WEFT_FILE_CREATE, NULL,
                                    on_file_open, &jobs[i]),
                     WEFT_OK);
  }
  for (int round = 0; round < 6 && !world.all_done; ++round) (void)run_until(f->loop, &world.all_done);
  assert_int_equal(world.done, kFiles);
  for (int i = 0; i < kFiles; ++i) {
    file_job* j = &jobs[i];
    assert_int_equal(j->open_calls, 1);
    assert_int_equal(j->write_calls, kChunks);
    if (j->closed_early) {
      assert_int_equal(j->writes_ok + j->writes_cancelled, kChunks);
      assert_int_equal(j->read_calls, 0);
    } else {
      assert_int_equal(j->writes_ok, kChunks);
      assert_int_equal(j->read_calls, 1);
      assert_true(j->verified);
    }
    snprintf(path, sizeof path, "%s/f%d", dir, i);
    assert_int_equal(unlink(path), 0);
  }
  /* Let the workers finish closing descriptors before the fixture checks. */
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(rmdir(dir), 0);
  free(jobs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_io_stress__many_tcp_connections_echo, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_io_stress__many_files_at_once, fixture_setup,
                                      fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
