/* Teardown from the wrong place: every destroy and close function of the C
 * API, called from every kind of callback and worker — a loop callback, a
 * timer, a future's callback, an I/O callback, a pool work function, a
 * strand work function. Each call must return a status: WEFT_OK where the
 * API allows it (closing a handle from a loop-thread callback), or its
 * documented error (WEFT_ERR_INVALID_STATE from inside the runtime's own
 * callbacks or an executor's own worker, WEFT_ERR_WRONG_THREAD for
 * loop-thread functions on a worker) — never an abort, a crash or a hang.
 * After an error the object is still whole: the test destroys it from the
 * loop thread, then the runtime, and checks that no block is left.
 *
 * Each case runs in a child process with an alarm (a hang or a crash is
 * reported as that case's failure, not the suite's); the child creates its
 * runtime after the fork, on its main thread, which is the loop thread.
 * The pipe listener's socket and the file live in a short directory under
 * /tmp (a socket path must fit in sun_path) that the parent makes before
 * each case and removes after it. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, kill, alarm */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/capi/support.h"

typedef enum place {
  FROM_LOOP_CALLBACK,
  FROM_TIMER,
  FROM_FUTURE_CALLBACK,
  FROM_IO_CALLBACK,
  FROM_POOL_WORK,
  FROM_STRAND_WORK,
  PLACE_COUNT
} place;

static const char* const place_names[PLACE_COUNT] = {"a loop callback", "a timer",        "a future callback",
                                                     "an I/O callback", "a pool's work", "a strand's work"};

static int on_worker(place p) { return p == FROM_POOL_WORK || p == FROM_STRAND_WORK; }

/* One case's world: the runtime and the object under test. */
typedef struct world {
  tracking_allocator allocator;
  weft_runtime_t* runtime;
  weft_loop_t* loop;
  weft_executor_t* pool;
  void* object;    /* the target's handle */
  int pipe_fds[2]; /* for the fd watch */
  char dir[256];   /* for the pipe listener and the file */
  volatile int done;
  weft_status status; /* what the destroy call returned */
} world;

typedef struct target {
  const char* name;
  int (*make)(world* w); /* 0 on success */
  weft_status (*destroy)(world* w);
  /* The statuses it may return from a loop-thread callback and a worker. */
  weft_status on_loop_thread;
  weft_status on_worker;
} target;

/* ---- the targets ---------------------------------------------------------- */

static int make_nothing(world* w) {
  (void)w;
  return 0;
}
static weft_status destroy_runtime(world* w) { return weft_runtime_destroy(w->runtime); }

static int make_pool(world* w) {
  weft_pool_options options = WEFT_POOL_OPTIONS_INIT;
  options.threads = 1;
  return weft_pool_create((weft_executor_t**)&w->object, w->runtime, &options) != WEFT_OK;
}
static int make_strand(world* w) { return weft_strand_create((weft_executor_t**)&w->object, w->pool) != WEFT_OK; }
static weft_status destroy_executor(world* w) { return weft_executor_destroy(w->object); }

static int make_scope(world* w) { return weft_scope_create((weft_scope_t**)&w->object, w->runtime, "target") != WEFT_OK; }
static weft_status destroy_scope(world* w) { return weft_scope_destroy(w->object); }

static weft_stream_t* g_other_end;
static int make_stream(world* w) {
  return weft_pipe_pair((weft_stream_t**)&w->object, &g_other_end, w->loop) != WEFT_OK;
}
static weft_status close_stream(world* w) { return weft_stream_close(w->object); }

static int make_tcp_listener(world* w) {
  return weft_tcp_listen((weft_tcp_listener_t**)&w->object, w->loop, "127.0.0.1", 0, NULL) != WEFT_OK;
}
static weft_status close_tcp_listener(world* w) { return weft_tcp_listener_close(w->object); }

static int make_pipe_listener(world* w) {
  char path[320];
  snprintf(path, sizeof path, "%s/sock", w->dir);
  return weft_pipe_listen((weft_pipe_listener_t**)&w->object, w->loop, path, NULL) != WEFT_OK;
}
static weft_status close_pipe_listener(world* w) { return weft_pipe_listener_close(w->object); }

static int make_udp(world* w) {
  return weft_udp_bind((weft_udp_socket_t**)&w->object, w->loop, "127.0.0.1", 0, NULL) != WEFT_OK;
}
static weft_status close_udp(world* w) { return weft_udp_close(w->object); }

static int make_fd_watch(world* w) {
  return weft_fd_watch((weft_fd_watch_t**)&w->object, w->loop, w->pipe_fds[0]) != WEFT_OK;
}
static weft_status close_fd_watch(world* w) { return weft_fd_watch_close(w->object); }

static int make_signal(world* w) { return weft_signal_watch((weft_signal_t**)&w->object, w->loop, SIGUSR2) != WEFT_OK; }
static weft_status close_signal(world* w) { return weft_signal_close(w->object); }

static int make_process(world* w) {
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  const char* args[] = {"true", NULL};
  options.file = "/bin/true";
  options.args = args;
  return weft_process_spawn((weft_process_t**)&w->object, w->loop, &options) != WEFT_OK;
}
static weft_status close_process(world* w) { return weft_process_close(w->object); }

static void file_opened(void* user, weft_status status, const char* message, weft_file_t* file) {
  (void)message;
  world* w = user;
  if (status == WEFT_OK) w->object = file;
  w->done = 1;
}
static int make_file(world* w) {
  char path[320];
  snprintf(path, sizeof path, "%s/file", w->dir);
  if (weft_file_open(NULL, w->loop, path, WEFT_FILE_WRITE | WEFT_FILE_CREATE, NULL, file_opened, w) != WEFT_OK) {
    return 1;
  }
  run_until(w->loop, &w->done);
  w->done = 0;
  return w->object == NULL;
}
static weft_status close_file(world* w) { return weft_file_close(w->object); }

static const target targets[] = {
    /* Inside a callback the runtime cannot go; on a worker it is the wrong thread. */
    {"weft_runtime_destroy", make_nothing, destroy_runtime, WEFT_ERR_INVALID_STATE, WEFT_ERR_WRONG_THREAD},
    /* Executors may be destroyed from any thread but their own workers. */
    {"weft_executor_destroy (pool)", make_pool, destroy_executor, WEFT_OK, WEFT_OK},
    {"weft_executor_destroy (strand)", make_strand, destroy_executor, WEFT_OK, WEFT_OK},
    {"weft_scope_destroy", make_scope, destroy_scope, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_stream_close", make_stream, close_stream, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_tcp_listener_close", make_tcp_listener, close_tcp_listener, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_pipe_listener_close", make_pipe_listener, close_pipe_listener, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_udp_close", make_udp, close_udp, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_fd_watch_close", make_fd_watch, close_fd_watch, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_signal_close", make_signal, close_signal, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_process_close", make_process, close_process, WEFT_OK, WEFT_ERR_WRONG_THREAD},
    {"weft_file_close", make_file, close_file, WEFT_OK, WEFT_ERR_WRONG_THREAD},
};
#define TARGET_COUNT (sizeof targets / sizeof targets[0])

/* ---- the places ----------------------------------------------------------- */

static const target* g_target;
static world* g_world;

static void call_destroy(void) {
  g_world->status = g_target->destroy(g_world);
  g_world->done = 1;
}

static void from_callback(void* user, weft_status status, const char* message) {
  (void)user;
  (void)status;
  (void)message;
  call_destroy();
}

static void from_future(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                        const char* message) {
  (void)user;
  (void)future;
  (void)status;
  (void)value;
  (void)message;
  call_destroy();
}

static void from_read(void* user, weft_status status, const char* message, const void* bytes, size_t len) {
  (void)user;
  (void)status;
  (void)message;
  (void)bytes;
  (void)len;
  call_destroy();
}

static weft_status from_work(void* user, weft_value* result) {
  (void)user;
  (void)result;
  /* A worker may not run the loop either. */
  if (weft_loop_run(g_world->loop, WEFT_RUN_NOWAIT) != WEFT_ERR_WRONG_THREAD) g_world->status = WEFT_ERR_UNKNOWN;
  weft_status status = g_target->destroy(g_world);
  if (g_world->status == WEFT_OK) g_world->status = status;
  return WEFT_OK;
}

static volatile int g_work_done;
static void work_done(void* user, weft_future_t* future, weft_status status, const weft_value* value,
                      const char* message) {
  (void)user;
  (void)future;
  (void)status;
  (void)value;
  (void)message;
  g_work_done = 1;
}

/* Child exit codes. */
enum {
  CASE_OK = 0,
  CASE_SETUP = 10,
  CASE_START,
  CASE_NOT_CALLED,
  CASE_WRONG_STATUS,
  CASE_CLEANUP,
  CASE_LEAK,
  CASE_BAD_MESSAGE
};

/* Arranges for the destroy call to run at `p`; returns 0 if it was queued.
 * `strand` is made here for FROM_STRAND_WORK (unless the target is one). */
static int start_at(world* w, place p, weft_stream_t** pair, weft_executor_t** strand) {
  switch (p) {
    case FROM_LOOP_CALLBACK:
      return weft_loop_call_soon(w->loop, from_callback, NULL) != WEFT_OK;
    case FROM_TIMER:
      return weft_loop_call_later(NULL, w->loop, 0, from_callback, NULL) != WEFT_OK;
    case FROM_FUTURE_CALLBACK: {
      weft_future_t* future = NULL;
      if (weft_future_create(&future, w->loop) != WEFT_OK) return 1;
      if (weft_future_then(future, w->loop, from_future, NULL) != WEFT_OK) return 1;
      if (weft_future_resolve(future, NULL) != WEFT_OK) return 1;
      return weft_future_release(future) != WEFT_OK;
    }
    case FROM_IO_CALLBACK:
      if (weft_pipe_pair(&pair[0], &pair[1], w->loop) != WEFT_OK) return 1;
      if (weft_stream_read(NULL, pair[1], 16, from_read, NULL) != WEFT_OK) return 1;
      return weft_stream_write(NULL, pair[0], "x", 1, NULL, NULL) != WEFT_OK;
    case FROM_POOL_WORK: {
      /* An executor target runs the work on itself: its own worker. */
      weft_executor_t* on = g_target->make == make_pool ? w->object : w->pool;
      if (g_target->make == make_strand) on = w->object;
      return weft_executor_submit(NULL, on, w->loop, from_work, work_done, NULL) != WEFT_OK;
    }
    case FROM_STRAND_WORK: {
      weft_executor_t* on;
      if (g_target->make == make_strand) {
        on = w->object;
      } else {
        weft_executor_t* inner = g_target->make == make_pool ? w->object : w->pool;
        if (weft_strand_create(strand, inner) != WEFT_OK) return 1;
        on = *strand;
      }
      return weft_executor_submit(NULL, on, w->loop, from_work, work_done, NULL) != WEFT_OK;
    }
    default:
      return 1;
  }
}

static int run_case(const target* t, place p, const char* dir) {
  alarm(20); /* a hang fails the case */
  world w;
  memset(&w, 0, sizeof w);
  snprintf(w.dir, sizeof w.dir, "%s", dir);
  g_target = t;
  g_world = &w;
  tracking_init(&w.allocator);
  if (pipe(w.pipe_fds) != 0) return CASE_SETUP;
  weft_runtime_options options = WEFT_RUNTIME_OPTIONS_INIT;
  options.threads = 2;
  options.allocator = tracking_hooks(&w.allocator);
  if (weft_runtime_create(&w.runtime, &options) != WEFT_OK) return CASE_SETUP;
  weft_runtime_loop(&w.loop, w.runtime);
  weft_runtime_pool(&w.pool, w.runtime);
  if (t->make(&w) != 0) return CASE_SETUP;
  weft_stream_t* pair[2] = {NULL, NULL};
  weft_executor_t* strand = NULL;
  misuse_record misuse;
  misuse_recorder_install(&misuse);
  if (start_at(&w, p, pair, &strand) != 0) return CASE_START;
  if (on_worker(p)) {
    if (!run_until(w.loop, &g_work_done)) return CASE_NOT_CALLED;
    w.done = 1;
  }
  if (!run_until(w.loop, &w.done)) return CASE_NOT_CALLED;
  const weft_status expected = on_worker(p) ? t->on_worker : t->on_loop_thread;
  /* A pool or strand destroyed from its own worker: its documented error. */
  weft_status allowed = expected;
  if (on_worker(p) && (t->make == make_pool || t->make == make_strand)) allowed = WEFT_ERR_INVALID_STATE;
  if (w.status != allowed) {
    fprintf(stderr, "%s from %s returned %s, expected %s\n", t->name, place_names[p], weft_status_name(w.status),
            weft_status_name(allowed));
    return CASE_WRONG_STATUS;
  }
  /* A refusal is reported under the function's own name, with a message
   * that names no implementation detail. */
  if (w.status != WEFT_OK && (misuse.count == 0 || strstr(misuse.last_message, "operator") != NULL)) {
    fprintf(stderr, "%s from %s: misuse report %d \"%s: %s\"\n", t->name, place_names[p], misuse.count,
            misuse.last_function, misuse.last_message);
    return CASE_BAD_MESSAGE;
  }
  misuse_recorder_remove();
  /* Clean up from the loop thread, outside any callback. */
  if (strand != NULL && weft_executor_destroy(strand) != WEFT_OK) return CASE_CLEANUP;
  if (pair[0] != NULL && (weft_stream_close(pair[0]) != WEFT_OK || weft_stream_close(pair[1]) != WEFT_OK)) {
    return CASE_CLEANUP;
  }
  if (w.status != WEFT_OK && t->make != make_nothing && t->destroy(&w) != WEFT_OK) return CASE_CLEANUP;
  if (g_other_end != NULL && weft_stream_close(g_other_end) != WEFT_OK) return CASE_CLEANUP;
  if (weft_runtime_destroy(w.runtime) != WEFT_OK) return CASE_CLEANUP;
  if (tracking_live_blocks(&w.allocator) != 0) return CASE_LEAK;
  close(w.pipe_fds[0]);
  close(w.pipe_fds[1]);
  return CASE_OK;
}

static void test_teardown_misuse__every_destroy_from_every_place(void** state) {
  (void)state;
  int failures = 0;
  for (size_t t = 0; t < TARGET_COUNT; ++t) {
    for (int p = 0; p < PLACE_COUNT; ++p) {
      /* Short: a Unix socket's path must fit in sun_path. Made and removed
       * here, whatever the case did. */
      char dir[64] = "/tmp/weft-teardown-XXXXXX";
      assert_non_null(mkdtemp(dir));
      fflush(NULL);
      pid_t child = fork();
      assert_true(child >= 0);
      if (child == 0) _exit(run_case(&targets[t], (place)p, dir));
      int status = 0;
      assert_int_equal(waitpid(child, &status, 0), child);
      char path[96];
      snprintf(path, sizeof path, "%s/file", dir);
      remove(path);
      snprintf(path, sizeof path, "%s/sock", dir);
      remove(path);
      assert_int_equal(rmdir(dir), 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != CASE_OK) {
        failures++;
        if (WIFSIGNALED(status)) {
          fprintf(stderr, "%s from %s: killed by signal %d%s\n", targets[t].name, place_names[p],
                  WTERMSIG(status), WTERMSIG(status) == SIGALRM ? " (a hang)" : "");
        } else {
          fprintf(stderr, "%s from %s: case failed with code %d\n", targets[t].name, place_names[p],
                  WEXITSTATUS(status));
        }
      }
    }
  }
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_teardown_misuse__every_destroy_from_every_place),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
