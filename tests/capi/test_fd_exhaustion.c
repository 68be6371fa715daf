/* Running out of file descriptors, for every kind of handle that needs one:
 * each case runs in a child process whose RLIMIT_NOFILE is lowered to 64;
 * the child makes a runtime (and what the case needs first, like a listener
 * to connect to), uses up every descriptor left, and then makes the handle:
 * the call (or its callback) must give WEFT_ERR_TOO_MANY_OPEN_FILES with a
 * message, not another status, a crash, a hang or a leak. Then the child gives the descriptors back and makes
 * the same handle again, which must work: weft recovers. The parent waits
 * for the child at most 30 s (the child's alarm ends it after 20 s) and
 * fails the case on any exit status but 0.
 *
 * The kinds: the runtime itself, TCP listen and connect, Unix socket listen
 * and connect, socket pairs, UDP sockets, files, and processes (with a pipe
 * for stdout). Loopback and the test's temp dir only.
 *
 * The child is this program again (exec'd with --child KIND DIR).
 *
 * Under --config=asan the cases are skipped: UBSan's vptr check (on in that
 * configuration) opens a pipe whenever it meets a new pair of types, which
 * fails while every descriptor is taken and reads as a false "invalid vptr"
 * that ends the child; its suppressions do not reach that report. TSan and
 * the plain build run them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/capi/support.h"

enum { kLimit = 64, kMaxHeld = 128 };

/* ---- the child's side --------------------------------------------------- */

static int g_held[kMaxHeld];
static int g_held_count;

/* Opens /dev/null until the process has no descriptor left. */
static void use_up_descriptors(void) {
  g_held_count = 0;
  while (g_held_count < kMaxHeld) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    g_held[g_held_count++] = fd;
  }
}

static void give_back_descriptors(void) {
  while (g_held_count > 0) close(g_held[--g_held_count]);
}

/* Ends the child with `code` after saying why (on stderr, into the log). */
static void child_fail(int code, const char* what, weft_status status) {
  fprintf(stderr, "fd exhaustion child: %s (%s)\n", what, weft_status_name(status));
  _exit(code);
}

typedef struct outcome {
  int called;
  weft_status status;
  char message[160];
  weft_stream_t* stream;
  weft_file_t* file;
} outcome;

static void on_stream(void* user, weft_status status, const char* message, weft_stream_t* stream) {
  outcome* o = (outcome*)user;
  o->called = 1;
  o->status = status;
  o->stream = stream;
  snprintf(o->message, sizeof o->message, "%s", message != NULL ? message : "");
}

static void on_file(void* user, weft_status status, const char* message, weft_file_t* file) {
  outcome* o = (outcome*)user;
  o->called = 1;
  o->status = status;
  o->file = file;
  snprintf(o->message, sizeof o->message, "%s", message != NULL ? message : "");
}

static void on_exit_status(void* user, weft_status status, const char* message, int64_t exit_code,
                           int term_signal) {
  outcome* o = (outcome*)user;
  (void)exit_code;
  (void)term_signal;
  o->called = 1;
  o->status = status;
  snprintf(o->message, sizeof o->message, "%s", message != NULL ? message : "");
}

typedef enum kind {
  kRuntime, kTcpListen, kTcpConnect, kPipeListen, kPipeConnect, kPipePair, kUdp, kFile, kProcess
} kind;

typedef struct child_world {
  weft_runtime_t* runtime;
  weft_loop_t* loop;
  weft_tcp_listener_t* tcp_listener;
  uint16_t tcp_port;
  weft_pipe_listener_t* pipe_listener;
  char dir[128];
  char socket_path[160];
  char file_path[160];
} child_world;

/* Makes one handle of `k`: 0 with it made (and closed again), or the error
 * status it got (after checking that it came with a message). */
static weft_status make_one(child_world* w, kind k) {
  weft_status s = WEFT_OK;
  outcome o;
  memset(&o, 0, sizeof o);
  switch (k) {
    case kRuntime: {
      weft_runtime_t* rt = NULL;
      s = weft_runtime_create(&rt, NULL);
      if (s == WEFT_OK) weft_runtime_destroy(rt);
      return s;
    }
    case kTcpListen: {
      weft_tcp_listener_t* l = NULL;
      s = weft_tcp_listen(&l, w->loop, "127.0.0.1", 0, NULL);
      if (s == WEFT_OK) weft_tcp_listener_close(l);
      return s;
    }
    case kTcpConnect:
      s = weft_tcp_connect(NULL, w->loop, "127.0.0.1", w->tcp_port, WEFT_SEC(5), on_stream, &o);
      break;
    case kPipeListen: {
      weft_pipe_listener_t* l = NULL;
      char path[200];
      snprintf(path, sizeof path, "%s/l%d", w->dir, (int)time(NULL) & 0xFFF);
      s = weft_pipe_listen(&l, w->loop, path, NULL);
      if (s == WEFT_OK) weft_pipe_listener_close(l);
      return s;
    }
    case kPipeConnect:
      s = weft_pipe_connect(NULL, w->loop, w->socket_path, WEFT_SEC(5), on_stream, &o);
      break;
    case kPipePair: {
      weft_stream_t* a = NULL;
      weft_stream_t* b = NULL;
      s = weft_pipe_pair(&a, &b, w->loop);
      if (s == WEFT_OK) {
        weft_stream_close(a);
        weft_stream_close(b);
      }
      return s;
    }
    case kUdp: {
      weft_udp_socket_t* u = NULL;
      s = weft_udp_bind(&u, w->loop, "127.0.0.1", 0, NULL);
      if (s == WEFT_OK) weft_udp_close(u);
      return s;
    }
    case kFile:
      s = weft_file_open(NULL, w->loop, w->file_path, WEFT_FILE_READ, NULL, on_file, &o);
      break;
    case kProcess: {
      static const char* const args[] = {"true", NULL};
      weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
      options.file = "/bin/true";
      options.args = args;
      options.stdout_mode = WEFT_STDIO_PIPE;
      weft_process_t* p = NULL;
      s = weft_process_spawn(&p, w->loop, &options);
      if (s != WEFT_OK) return s;
      weft_stream_t* out = NULL;
      weft_process_stdout(&out, p);
      if (weft_process_wait(NULL, p, on_exit_status, &o) != WEFT_OK) child_fail(40, "process_wait refused", s);
      if (!run_until(w->loop, &o.called)) child_fail(41, "the process was never reaped", o.status);
      if (out != NULL) weft_stream_close(out);
      weft_process_close(p);
      return o.status;
    }
  }
  /* An asynchronous handle: refused at once, or its callback says. */
  if (s != WEFT_OK) return s;
  if (!run_until(w->loop, &o.called)) child_fail(42, "an operation's callback never ran", s);
  if (o.status == WEFT_OK) {
    if (o.stream != NULL) weft_stream_close(o.stream);
    if (o.file != NULL) weft_file_close(o.file);
  } else if (o.message[0] == '\0') {
    child_fail(43, "a failure came without a message", o.status);
  }
  return o.status;
}

static void child_main(kind k, const char* dir) __attribute__((noreturn));
static void child_main(kind k, const char* dir) {
  alarm(20);
  struct rlimit limit = {kLimit, kLimit};
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) child_fail(10, "setrlimit", WEFT_OK);
  child_world w;
  memset(&w, 0, sizeof w);
  snprintf(w.dir, sizeof w.dir, "%s", dir);
  snprintf(w.socket_path, sizeof w.socket_path, "%s/s", dir);
  snprintf(w.file_path, sizeof w.file_path, "%s/f", dir);
  FILE* f = fopen(w.file_path, "w");
  if (f == NULL) child_fail(11, "cannot make the file", WEFT_OK);
  fputs("x", f);
  fclose(f);

  if (weft_runtime_create(&w.runtime, NULL) != WEFT_OK) child_fail(12, "no runtime", WEFT_OK);
  weft_runtime_loop(&w.loop, w.runtime);
  if (k == kTcpConnect && weft_tcp_listen(&w.tcp_listener, w.loop, "127.0.0.1", 0, NULL) != WEFT_OK) {
    child_fail(13, "no listener", WEFT_OK);
  }
  if (w.tcp_listener != NULL) weft_tcp_listener_port(&w.tcp_port, w.tcp_listener);
  if (k == kPipeConnect && weft_pipe_listen(&w.pipe_listener, w.loop, w.socket_path, NULL) != WEFT_OK) {
    child_fail(14, "no pipe listener", WEFT_OK);
  }

  use_up_descriptors();
  if (g_held_count == 0 || open("/dev/null", O_RDONLY) >= 0) child_fail(15, "descriptors not used up", WEFT_OK);
  const weft_status exhausted = make_one(&w, k);
  give_back_descriptors();
  if (exhausted == WEFT_OK) child_fail(20, "a handle was made with no descriptor left", exhausted);
  if (exhausted != WEFT_ERR_TOO_MANY_OPEN_FILES) {
    child_fail(22, "running out of descriptors was reported as another error", exhausted);
  }

  const weft_status recovered = make_one(&w, k);
  if (recovered != WEFT_OK) child_fail(21, "no handle once descriptors were back", recovered);

  if (w.tcp_listener != NULL) weft_tcp_listener_close(w.tcp_listener);
  if (w.pipe_listener != NULL) weft_pipe_listener_close(w.pipe_listener);
  if (weft_runtime_destroy(w.runtime) != WEFT_OK) child_fail(30, "runtime not destroyed", WEFT_OK);
  fprintf(stderr, "fd exhaustion child: kind %d refused with %s, then recovered\n", (int)k,
          weft_status_name(exhausted));
  _exit(0);
}

/* ---- the parent's side -------------------------------------------------- */

static void run_case(kind k) {
#if defined(__SANITIZE_ADDRESS__)
  (void)k;
  skip();  /* see the top of this file: UBSan's vptr check needs descriptors */
#endif
  const char* base = getenv("TEST_TMPDIR");
  char pattern[256];
  snprintf(pattern, sizeof pattern, "%s/fdx_XXXXXX", base != NULL && strlen(base) < 80 ? base : "/tmp");
  char* made = mkdtemp(pattern);
  assert_non_null(made);
  char kind_text[16];
  snprintf(kind_text, sizeof kind_text, "%d", (int)k);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char* const args[] = {(char*)"test_fd_exhaustion", (char*)"--child", kind_text, made, NULL};
    execv("/proc/self/exe", args);
    _exit(51);
  }
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 3000 && done == 0; ++i) {  /* 30 s at most */
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) {
      const struct timespec pause = {0, 10000000};
      nanosleep(&pause, NULL);
    }
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("the child of kind %d did not finish in 30 s", (int)k);
  }
  char command[300];
  snprintf(command, sizeof command, "rm -rf '%s'", made);
  if (system(command) != 0) fprintf(stderr, "could not remove %s\n", made);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail_msg("the child of kind %d ended with %s %d", (int)k, WIFEXITED(status) ? "exit status" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
}

static void test_fd_exhaustion__runtime(void** state) { (void)state; run_case(kRuntime); }
static void test_fd_exhaustion__tcp_listen(void** state) { (void)state; run_case(kTcpListen); }
static void test_fd_exhaustion__tcp_connect(void** state) { (void)state; run_case(kTcpConnect); }
static void test_fd_exhaustion__pipe_listen(void** state) { (void)state; run_case(kPipeListen); }
static void test_fd_exhaustion__pipe_connect(void** state) { (void)state; run_case(kPipeConnect); }
static void test_fd_exhaustion__pipe_pair(void** state) { (void)state; run_case(kPipePair); }
static void test_fd_exhaustion__udp(void** state) { (void)state; run_case(kUdp); }
static void test_fd_exhaustion__file(void** state) { (void)state; run_case(kFile); }
static void test_fd_exhaustion__process(void** state) { (void)state; run_case(kProcess); }

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "--child") == 0) child_main((kind)atoi(argv[2]), argv[3]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fd_exhaustion__runtime),     cmocka_unit_test(test_fd_exhaustion__tcp_listen),
      cmocka_unit_test(test_fd_exhaustion__tcp_connect), cmocka_unit_test(test_fd_exhaustion__pipe_listen),
      cmocka_unit_test(test_fd_exhaustion__pipe_connect), cmocka_unit_test(test_fd_exhaustion__pipe_pair),
      cmocka_unit_test(test_fd_exhaustion__udp),         cmocka_unit_test(test_fd_exhaustion__file),
      cmocka_unit_test(test_fd_exhaustion__process),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
