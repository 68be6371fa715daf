/* A child process driven through pipes on weft's C API: this program runs
 * `sort` as a child, writes it some lines through its stdin, reads the
 * sorted lines back from its stdout one at a time (weft_stream_read_until)
 * and numbers them, then reports how the child exited.
 *
 *   bazel run //examples/c:line_numbers -- [WORD]...
 *
 * The words given (or a few of weft's own) go to `sort`, one per line.
 * Everything runs on the loop thread, in callbacks; nothing blocks. */
#include <stdio.h>
#include <string.h>

#include <weft/weft.h>

typedef struct session {
  weft_loop_t* loop;
  weft_process_t* child;
  weft_stream_t* to_child;   /* its stdin */
  weft_stream_t* from_child; /* its stdout */
  int lines;
  int exited;
  weft_status failure;
} session;

static void read_line(session* s);

static void on_line(void* user, weft_status status, const char* message, const void* bytes,
                    size_t len) {
  session* s = user;
  if (status == WEFT_OK) {
    /* The line comes with its "\n"; the bytes are valid until we return. */
    printf("%3d  %.*s", ++s->lines, (int)len, (const char*)bytes);
    read_line(s);
  } else if (status != WEFT_ERR_END_OF_FILE) {
    fprintf(stderr, "line_numbers: reading: %s\n", message);
    s->failure = status;
  }
}

static void read_line(session* s) {
  weft_status status = weft_stream_read_until(NULL, s->from_child, "\n", 1, 4096, on_line, s);
  if (status != WEFT_OK) s->failure = status;
}

static void on_exit_status(void* user, weft_status status, const char* message, int64_t exit_code,
                           int term_signal) {
  session* s = user;
  s->exited = 1;
  if (status != WEFT_OK) {
    fprintf(stderr, "line_numbers: waiting: %s\n", message);
    s->failure = status;
  } else if (term_signal != 0) {
    printf("sort was killed by signal %d\n", term_signal);
  } else {
    printf("sort exited with code %lld after %d lines\n", (long long)exit_code, s->lines);
  }
}

int main(int argc, char** argv) {
  static const char* const default_words[] = {"timers", "futures", "sockets", "pipes", "signals"};
  const char* const args[] = {"sort", NULL};

  weft_runtime_t* runtime = NULL;
  session s;
  memset(&s, 0, sizeof s);
  weft_status status = weft_runtime_create(&runtime, NULL);
  if (status == WEFT_OK) status = weft_runtime_loop(&s.loop, runtime);

  weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
  options.file = "sort"; /* looked up in PATH */
  options.args = args;
  options.stdin_mode = WEFT_STDIO_PIPE;
  options.stdout_mode = WEFT_STDIO_PIPE;
  if (status == WEFT_OK) status = weft_process_spawn(&s.child, s.loop, &options);
  if (status == WEFT_OK) status = weft_process_stdin(&s.to_child, s.child);
  if (status == WEFT_OK) status = weft_process_stdout(&s.from_child, s.child);
  if (status != WEFT_OK) {
    fprintf(stderr, "line_numbers: %s\n", weft_status_str(status));
    weft_runtime_destroy(runtime);
    return 1;
  }

  /* Writes are copied during the call and go out in order; the shutdown
   * follows them, and is the child's end of input. */
  const int given = argc > 1;
  const int count = given ? argc - 1 : (int)(sizeof default_words / sizeof default_words[0]);
  for (int i = 0; i < count && status == WEFT_OK; ++i) {
    const char* word = given ? argv[i + 1] : default_words[i];
    status = weft_stream_write(NULL, s.to_child, word, strlen(word), NULL, NULL);
    if (status == WEFT_OK) status = weft_stream_write(NULL, s.to_child, "\n", 1, NULL, NULL);
  }
  if (status == WEFT_OK) status = weft_stream_shutdown(NULL, s.to_child, NULL, NULL);
  read_line(&s);
  if (status == WEFT_OK) status = weft_process_wait(NULL, s.child, on_exit_status, &s);

  /* Runs until the child has exited and its output is read. */
  if (status == WEFT_OK) status = weft_loop_run(s.loop, WEFT_RUN_DEFAULT);
  if (status == WEFT_OK && s.failure != WEFT_OK) status = s.failure;
  if (status != WEFT_OK) fprintf(stderr, "line_numbers: %s\n", weft_status_str(status));

  weft_stream_close(s.to_child);
  weft_stream_close(s.from_child);
  weft_process_close(s.child);
  weft_runtime_destroy(runtime);
  return status == WEFT_OK && s.exited ? 0 : 1;
}
