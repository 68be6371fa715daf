/* Processes: exit codes and signals, the stdio pipes as streams, arguments,
 * environment and working directory, spawn failures, bad input, and ending
 * handles with waits pending (each callback exactly once). The children are
 * Debian's /bin/sh, cat and sleep; none outlives its test by more than the
 * time a signal takes. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/capi/support.h"

/* What a wait callback saw. */
typedef struct wait_record {
  int calls;
  weft_status status;
  int64_t exit_code;
  int term_signal;
  char message[200];
} wait_record;

static void record_wait(void* user, weft_status status, const char* message, int64_t exit_code,
                        int term_signal) {
  wait_record* r = user;
  r->calls++;
  r->status = status;
  check_message(status, message, r->message, sizeof r->message);
  r->exit_code = exit_code;
  r->term_signal = term_signal;
}

static void never_called_wait(void* user, weft_status status, const char* message,
                              int64_t exit_code, int term_signal) {
  (void)user;
  (void)status;
  (void)message;
  (void)exit_code;
  (void)term_signal;
  fail_msg("a callback of a failed call ran");
}

/* Reads a stream to its end. */
typedef struct reader {
  weft_stream_t* stream;
  char data[4096];
  size_t len;
  int done;
  weft_status status; /* what ended it: WEFT_ERR_END_OF_FILE at the end */
} reader;

static void read_all(void* user, weft_status status, const char* message, const void* bytes,
                     size_t len) {
  reader* r = user;
  check_message(status, message, NULL, 0);
  if (status != WEFT_OK) {
    r->status = status;
    r->done = 1;
    return;
  }
  assert_true(r->len + len < sizeof(r->data));
  memcpy(r->data + r->len, bytes, len);
  r->len += len;
  assert_int_equal(weft_stream_read(NULL, r->stream, sizeof(r->data), read_all, r), WEFT_OK);
}

static void start_reading(reader* r, weft_stream_t* stream) {
  memset(r, 0, sizeof(*r));
  r->stream = stream;
  assert_int_equal(weft_stream_read(NULL, stream, sizeof(r->data), read_all, r), WEFT_OK);
}

/* Spawns `file` with `args` (NULL-terminated) and the given stdio modes. */
static weft_process_t* spawn(weft_loop_t* loop, const char* file, const char* const* args,
                             weft_stdio_mode in, weft_stdio_mode out, weft_stdio_mode err) {
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.file = file;
  options.args = args;
  options.stdin_mode = in;
  options.stdout_mode = out;
  options.stderr_mode = err;
  weft_process_t* process = NULL;
  assert_int_equal(weft_process_spawn(&process, loop, &options), WEFT_OK);
  assert_non_null(process);
  return process;
}

static weft_process_t* spawn_sleep(fixture* f) {
  static const char* const args[] = {"sleep", "30", NULL};
  return spawn(f->loop, "sleep", args, WEFT_STDIO_NULL, WEFT_STDIO_NULL, WEFT_STDIO_NULL);
}

static void test_process__exit_code(void** state) {
  fixture* f = FIXTURE(state);
  static const char* const args[] = {"sh", "-c", "exit 3", NULL};
  weft_process_t* child =
      spawn(f->loop, "/bin/sh", args, WEFT_STDIO_NULL, WEFT_STDIO_NULL, WEFT_STDIO_NULL);
  int pid = 0;
  assert_int_equal(weft_process_pid(&pid, child), WEFT_OK);
  assert_true(pid > 0);

  /* Two waits pending: both get the status. */
  wait_record first = {0}, second = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &first), WEFT_OK);
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &second), WEFT_OK);
  assert_true(run_until(f->loop, &first.calls));
  assert_true(run_until(f->loop, &second.calls));
  assert_int_equal(first.status, WEFT_OK);
  assert_int_equal(first.exit_code, 3);
  assert_int_equal(first.term_signal, 0);
  assert_int_equal(second.status, WEFT_OK);
  assert_int_equal(second.exit_code, 3);

  /* Once it has exited: a wait completes from the next run, not inside the
   * call; a kill sends nothing; the pid is still there. */
  wait_record late = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &late), WEFT_OK);
  assert_int_equal(late.calls, 0);
  assert_true(run_until(f->loop, &late.calls));
  assert_int_equal(late.status, WEFT_OK);
  assert_int_equal(late.exit_code, 3);
  assert_int_equal(weft_process_kill(child, SIGTERM), WEFT_ERR_ALREADY_COMPLETED);
  int again = 0;
  assert_int_equal(weft_process_pid(&again, child), WEFT_OK);
  assert_int_equal(again, pid);

  assert_int_equal(weft_process_close(child), WEFT_OK);
  assert_int_equal(weft_process_close(child), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(first.calls, 1);
  assert_int_equal(second.calls, 1);
  assert_int_equal(late.calls, 1);
}

static void test_process__cat_echoes_stdin_to_stdout(void** state) {
  fixture* f = FIXTURE(state);
  static const char* const args[] = {"cat", NULL};
  weft_process_t* child = spawn(f->loop, "cat", args, WEFT_STDIO_PIPE, WEFT_STDIO_PIPE, WEFT_STDIO_INHERIT);
  weft_stream_t *in = NULL, *out = NULL, *again = NULL;
  assert_int_equal(weft_process_stdin(&in, child), WEFT_OK);
  assert_int_equal(weft_process_stdout(&out, child), WEFT_OK);
  assert_non_null(in);
  assert_non_null(out);
  assert_true(in != out);
  /* Taken once; stderr is not a pipe. */
  assert_int_equal(weft_process_stdin(&again, child), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_process_stdout(&again, child), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_process_stderr(&again, child), WEFT_ERR_INVALID_STATE);
  assert_null(again);

  call_record written = {0}, shut = {0};
  assert_int_equal(weft_stream_write(NULL, in, "hello, cat\n", 11, record_callback, &written), WEFT_OK);
  assert_int_equal(weft_stream_write(NULL, in, "bye\n", 4, NULL, NULL), WEFT_OK);
  assert_int_equal(weft_stream_shutdown(NULL, in, record_callback, &shut), WEFT_OK);
  reader r;
  start_reading(&r, out);
  assert_true(run_until(f->loop, &r.done));
  assert_int_equal(r.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(r.len, 15);
  assert_memory_equal(r.data, "hello, cat\nbye\n", 15);
  assert_true(run_until(f->loop, &written.calls));
  assert_true(run_until(f->loop, &shut.calls));
  assert_int_equal(written.status, WEFT_OK);
  assert_int_equal(shut.status, WEFT_OK);

  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &exited), WEFT_OK);
  assert_true(run_until(f->loop, &exited.calls));
  assert_int_equal(exited.status, WEFT_OK);
  assert_int_equal(exited.exit_code, 0);
  assert_int_equal(exited.term_signal, 0);

  /* The streams are the caller's: closing the process leaves them open. */
  assert_int_equal(weft_process_close(child), WEFT_OK);
  reader end;
  start_reading(&end, out);
  assert_true(run_until(f->loop, &end.done));
  assert_int_equal(end.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(weft_stream_close(in), WEFT_OK);
  assert_int_equal(weft_stream_close(out), WEFT_OK);
  assert_int_equal(weft_stream_close(out), WEFT_ERR_STALE_HANDLE);
}

static void test_process__stderr_pipe(void** state) {
  fixture* f = FIXTURE(state);
  static const char* const args[] = {"sh", "-c", "echo out; echo oops >&2; exit 1", NULL};
  weft_process_t* child = spawn(f->loop, "sh", args, WEFT_STDIO_NULL, WEFT_STDIO_NULL, WEFT_STDIO_PIPE);
  weft_stream_t* err = NULL;
  assert_int_equal(weft_process_stdout(&err, child), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_process_stdin(&err, child), WEFT_ERR_INVALID_STATE);
  assert_int_equal(weft_process_stderr(&err, child), WEFT_OK);
  reader r;
  start_reading(&r, err);
  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &exited), WEFT_OK);
  assert_true(run_until(f->loop, &r.done));
  assert_true(run_until(f->loop, &exited.calls));
  assert_int_equal(r.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(r.len, 5);
  assert_memory_equal(r.data, "oops\n", 5);
  assert_int_equal(exited.status, WEFT_OK);
  assert_int_equal(exited.exit_code, 1);
  assert_int_equal(weft_stream_close(err), WEFT_OK);
  assert_int_equal(weft_process_close(child), WEFT_OK);
}

static void test_process__args_env_and_cwd_reach_the_child(void** state) {
  fixture* f = FIXTURE(state);
  const char* tmp = getenv("TEST_TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/weft_process_XXXXXX", tmp != NULL ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  char real[4096];
  assert_non_null(realpath(dir, real));

  static const char* const args[] = {
      "sh", "-c", "echo \"$X|${HOME:-unset}|$1\"; pwd", "sh", "two words", NULL};
  static const char* const env[] = {"X=hello there", NULL};
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.file = "/bin/sh";
  options.args = args;
  options.env = env;
  options.cwd = dir;
  options.stdin_mode = WEFT_STDIO_NULL;
  options.stdout_mode = WEFT_STDIO_PIPE;
  weft_process_t* child = NULL;
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_OK);
  weft_stream_t* out = NULL;
  assert_int_equal(weft_process_stdout(&out, child), WEFT_OK);
  reader r;
  start_reading(&r, out);
  assert_true(run_until(f->loop, &r.done));
  assert_int_equal(r.status, WEFT_ERR_END_OF_FILE);
  char expected[4200];
  snprintf(expected, sizeof(expected), "hello there|unset|two words\n%s\n", real);
  r.data[r.len] = '\0';
  assert_string_equal(r.data, expected);

  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &exited), WEFT_OK);
  assert_true(run_until(f->loop, &exited.calls));
  assert_int_equal(exited.exit_code, 0);
  assert_int_equal(weft_stream_close(out), WEFT_OK);
  assert_int_equal(weft_process_close(child), WEFT_OK);
  assert_int_equal(rmdir(dir), 0);
}

static void test_process__kill_ends_the_child_with_the_signal(void** state) {
  fixture* f = FIXTURE(state);
  weft_process_t* child = spawn_sleep(f);
  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &exited), WEFT_OK);
  assert_int_equal(weft_process_kill(child, 0), WEFT_OK); /* alive */
  assert_int_equal(weft_process_kill(child, SIGTERM), WEFT_OK);
  assert_true(run_until(f->loop, &exited.calls));
  assert_int_equal(exited.status, WEFT_OK);
  assert_int_equal(exited.term_signal, SIGTERM);
  assert_int_equal(exited.exit_code, 0);
  assert_int_equal(weft_process_kill(child, SIGTERM), WEFT_ERR_ALREADY_COMPLETED);
  assert_int_equal(weft_process_close(child), WEFT_OK);
}

static void test_process__spawn_failures(void** state) {
  fixture* f = FIXTURE(state);
  static const char* const args[] = {"x", NULL};
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.args = args;
  weft_process_t* child = NULL;

  options.file = "/no/such/program";
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_ERR_NOT_FOUND);
  options.file = "weft-no-such-program-in-path";
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_ERR_NOT_FOUND);
  options.file = "/bin/sh";
  options.cwd = "/no/such/directory";
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_ERR_NOT_FOUND);
  options.file = "/dev/null"; /* not executable */
  options.cwd = NULL;
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_ERR_PERMISSION_DENIED);
  /* Pipes asked for are not left open by a failed spawn (the fixture checks
   * for leaks; the loop has nothing to wait for). */
  options.file = "/no/such/program";
  options.stdin_mode = WEFT_STDIO_PIPE;
  options.stdout_mode = WEFT_STDIO_PIPE;
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_ERR_NOT_FOUND);
  assert_null(child);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
}

static void test_process__bad_input(void** state) {
  fixture* f = FIXTURE(state);
  misuse_record misuse = {0};
  misuse_recorder_install(&misuse);
  static const char* const args[] = {"sh", "-c", "exit 0", NULL};
  static const char* const no_args[] = {NULL};
  static const char* const bad_env[] = {"X=1", "NOEQUALS", NULL};
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.file = "/bin/sh";
  options.args = args;
  weft_process_t* child = NULL;

  assert_int_equal(weft_process_spawn(NULL, f->loop, &options), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_process_spawn(&child, NULL, &options), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_spawn(&child, f->loop, NULL), WEFT_ERR_INVALID_ARGUMENT);
  weft_process_options o = options;
  o.file = NULL;
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.file = "";
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o = options;
  o.args = NULL;
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.args = no_args;
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o = options;
  o.env = bad_env;
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o = options;
  o.struct_size = 4;
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o.struct_size = 0;
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  /* Modes not in the enum (as a C caller may pass them). */
  o = options;
  int bad_mode = 3;
  memcpy(&o.stdout_mode, &bad_mode, sizeof bad_mode);
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o = options;
  bad_mode = -1;
  memcpy(&o.stdin_mode, &bad_mode, sizeof bad_mode);
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  o = options;
  memcpy(&o.stderr_mode, &bad_mode, sizeof bad_mode);
  assert_int_equal(weft_process_spawn(&child, f->loop, &o), WEFT_ERR_INVALID_ARGUMENT);
  assert_null(child);
  assert_true(misuse.count > 0);

  /* NULL handles. */
  int pid = 0;
  weft_stream_t* stream = NULL;
  assert_int_equal(weft_process_pid(&pid, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_stdin(&stream, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_stdout(&stream, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_stderr(&stream, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_kill(NULL, SIGTERM), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_wait(NULL, NULL, never_called_wait, NULL), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_close(NULL), WEFT_OK);

  /* A live child with a stdout pipe. */
  options.stdout_mode = WEFT_STDIO_PIPE;
  assert_int_equal(weft_process_spawn(&child, f->loop, &options), WEFT_OK);
  assert_int_equal(weft_process_pid(NULL, child), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_process_stdout(NULL, child), WEFT_ERR_INVALID_ARGUMENT);
  /* The callback may be NULL when a future takes the outcome (checked
   * once the child has exited, below). */
  weft_future_t* waited = NULL;
  assert_int_equal(weft_process_wait(&waited, child, NULL, NULL), WEFT_OK);
  assert_non_null(waited);
  assert_int_equal(weft_process_kill(child, -1), WEFT_ERR_INVALID_ARGUMENT);
  assert_int_equal(weft_process_kill(child, 1000), WEFT_ERR_INVALID_ARGUMENT);

  /* Wrong kinds: a process is not a stream, a stream not a process, a loop
   * neither. */
  assert_int_equal(weft_process_stdout(&stream, child), WEFT_OK);
  assert_int_equal(weft_stream_close((weft_stream_t*)child), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_pid(&pid, (weft_process_t*)stream), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_close((weft_process_t*)stream), WEFT_ERR_INVALID_HANDLE);
  assert_int_equal(weft_process_close((weft_process_t*)f->loop), WEFT_ERR_INVALID_HANDLE);

  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &exited), WEFT_OK);
  assert_true(run_until(f->loop, &exited.calls));
  assert_int_equal(exited.exit_code, 0);
  weft_status waited_status = WEFT_ERR_UNKNOWN;
  weft_value waited_value = weft_value_none();
  assert_int_equal(weft_future_result(&waited_status, &waited_value, NULL, waited), WEFT_OK);
  assert_int_equal(waited_status, WEFT_OK);
  assert_int_equal(waited_value.kind, WEFT_VALUE_INT64);
  assert_int_equal(waited_value.as.int64, 0);
  assert_int_equal(weft_future_release(waited), WEFT_OK);

  /* Stale after close. */
  assert_int_equal(weft_process_close(child), WEFT_OK);
  assert_int_equal(weft_process_pid(&pid, child), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_process_kill(child, SIGTERM), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_process_wait(NULL, child, never_called_wait, NULL), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_process_stdin(&stream, child), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(stream), WEFT_OK);
  misuse_recorder_remove();
}

static void test_process__close_cancels_pending_waits_exactly_once(void** state) {
  fixture* f = FIXTURE(state);
  weft_process_t* child = spawn_sleep(f);
  wait_record waits[3];
  memset(waits, 0, sizeof(waits));
  for (int i = 0; i < 3; ++i) assert_int_equal(weft_process_wait(NULL, child, record_wait, &waits[i]), WEFT_OK);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  for (int i = 0; i < 3; ++i) assert_int_equal(waits[i].calls, 0);
  /* Closing leaves the child running: stop it first. Its exit is only seen
   * by a loop run, so the waits are still pending at the close. */
  assert_int_equal(weft_process_kill(child, SIGKILL), WEFT_OK);
  assert_int_equal(weft_process_close(child), WEFT_OK);
  for (int i = 0; i < 3; ++i) {
    assert_int_equal(waits[i].calls, 1);
    assert_int_equal(waits[i].status, WEFT_ERR_CANCELLED);
    assert_int_equal(waits[i].exit_code, 0);
    assert_int_equal(waits[i].term_signal, 0);
  }
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  for (int i = 0; i < 3; ++i) assert_int_equal(waits[i].calls, 1);

  /* A wait pending when the runtime is destroyed (the fixture's teardown
   * then finds it destroyed): exactly once, cancelled. */
  weft_process_t* second = spawn_sleep(f);
  wait_record last = {0};
  assert_int_equal(weft_process_wait(NULL, second, record_wait, &last), WEFT_OK);
  assert_int_equal(weft_process_kill(second, SIGKILL), WEFT_OK);
  assert_int_equal(weft_runtime_destroy(f->runtime), WEFT_OK);
  f->runtime = NULL;
  assert_int_equal(last.calls, 1);
  assert_int_equal(last.status, WEFT_ERR_CANCELLED);
  assert_int_equal(tracking_live_blocks(&f->allocator), 0);
}

/* Closing the process closes the pipe ends not taken: cat's stdin closes, so
 * cat ends, and its stdout (taken) reaches its end. */
static void test_process__close_closes_the_pipes_not_taken(void** state) {
  fixture* f = FIXTURE(state);
  static const char* const args[] = {"cat", NULL};
  weft_process_t* child = spawn(f->loop, "cat", args, WEFT_STDIO_PIPE, WEFT_STDIO_PIPE, WEFT_STDIO_INHERIT);
  weft_stream_t* out = NULL;
  assert_int_equal(weft_process_stdout(&out, child), WEFT_OK);
  reader r;
  start_reading(&r, out);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_NOWAIT), WEFT_OK);
  assert_int_equal(r.done, 0);
  assert_int_equal(weft_process_close(child), WEFT_OK);
  assert_true(run_until(f->loop, &r.done));
  assert_int_equal(r.status, WEFT_ERR_END_OF_FILE);
  assert_int_equal(r.len, 0);
  assert_int_equal(weft_stream_close(out), WEFT_OK);
}

static void test_process__scope_destroy_ends_its_handles(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  static const char* const args[] = {"cat", NULL};
  weft_process_t* child = spawn(loop, "cat", args, WEFT_STDIO_PIPE, WEFT_STDIO_NULL, WEFT_STDIO_INHERIT);
  weft_stream_t* in = NULL;
  assert_int_equal(weft_process_stdin(&in, child), WEFT_OK);
  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &exited), WEFT_OK);
  /* The stream taken out is the scope's too: it closes, cat sees the end of
   * its input and exits. */
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
  assert_int_equal(exited.calls, 1);
  assert_int_equal(exited.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_process_close(child), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_stream_close(in), WEFT_ERR_STALE_HANDLE);
  assert_int_equal(weft_loop_run(f->loop, WEFT_RUN_DEFAULT), WEFT_OK);
  assert_int_equal(exited.calls, 1);
}

static void test_process__scope_cancel_refuses_new_children(void** state) {
  fixture* f = FIXTURE(state);
  weft_scope_t* scope = NULL;
  weft_loop_t* loop = NULL;
  assert_int_equal(weft_scope_create(&scope, f->runtime, "plugin"), WEFT_OK);
  assert_int_equal(weft_scope_loop(&loop, scope), WEFT_OK);
  weft_process_t* child = NULL;
  {
    static const char* const args[] = {"sleep", "30", NULL};
    child = spawn(loop, "sleep", args, WEFT_STDIO_NULL, WEFT_STDIO_NULL, WEFT_STDIO_NULL);
  }
  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, child, record_wait, &exited), WEFT_OK);
  assert_int_equal(weft_process_kill(child, SIGKILL), WEFT_OK);
  assert_int_equal(weft_scope_cancel(scope), WEFT_OK);
  assert_int_equal(exited.calls, 1);
  assert_int_equal(exited.status, WEFT_ERR_CANCELLED);
  assert_int_equal(weft_process_kill(child, SIGKILL), WEFT_ERR_STALE_HANDLE);
  static const char* const args[] = {"sh", "-c", "exit 0", NULL};
  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.file = "/bin/sh";
  options.args = args;
  weft_process_t* refused = NULL;
  assert_int_equal(weft_process_spawn(&refused, loop, &options), WEFT_ERR_CLOSED);
  assert_null(refused);
  assert_int_equal(weft_scope_destroy(scope), WEFT_OK);
}

typedef struct thread_call {
  weft_process_t* process;
  weft_status pid_status;
  weft_status kill_status;
} thread_call;

static void* from_another_thread(void* arg) {
  thread_call* call = arg;
  int pid = 0;
  call->pid_status = weft_process_pid(&pid, call->process);
  call->kill_status = weft_process_kill(call->process, SIGKILL);
  return NULL;
}

static void test_process__loop_thread_only(void** state) {
  fixture* f = FIXTURE(state);
  thread_call call = {spawn_sleep(f), WEFT_OK, WEFT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, from_another_thread, &call), 0);
  pthread_join(thread, NULL);
  assert_int_equal(call.pid_status, WEFT_ERR_WRONG_THREAD);
  assert_int_equal(call.kill_status, WEFT_ERR_WRONG_THREAD);
  wait_record exited = {0};
  assert_int_equal(weft_process_wait(NULL, call.process, record_wait, &exited), WEFT_OK);
  assert_int_equal(weft_process_kill(call.process, SIGKILL), WEFT_OK);
  assert_true(run_until(f->loop, &exited.calls));
  assert_int_equal(exited.term_signal, SIGKILL);
  assert_int_equal(weft_process_close(call.process), WEFT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_process__exit_code, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__cat_echoes_stdin_to_stdout, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__stderr_pipe, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__args_env_and_cwd_reach_the_child, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__kill_ends_the_child_with_the_signal, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__spawn_failures, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__bad_input, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__close_cancels_pending_waits_exactly_once,
                                      fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__close_closes_the_pipes_not_taken, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__scope_destroy_ends_its_handles, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__scope_cancel_refuses_new_children, fixture_setup,
                                      fixture_teardown),
      cmocka_unit_test_setup_teardown(test_process__loop_thread_only, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
