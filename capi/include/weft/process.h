/* weft/process.h: child processes on the loop, with pipes to their
 * stdin/stdout/stderr.
 *
 *   const char* const args[] = {"sort", "-r", NULL};
 *   weft_process_options options = WEFT_PROCESS_OPTIONS_INIT;
 *   options.file = "sort";
 *   options.args = args;
 *   options.stdin_mode = WEFT_STDIO_PIPE;
 *   options.stdout_mode = WEFT_STDIO_PIPE;
 *   weft_process_t* child;
 *   weft_process_spawn(&child, loop, &options);
 *   weft_stream_t *in, *out;
 *   weft_process_stdin(&in, child);                (a weft/stream.h stream)
 *   weft_process_stdout(&out, child);
 *   weft_stream_write(in, "b\na\n", 4, NULL, NULL);
 *   weft_stream_shutdown(in, NULL, NULL);           (the child sees EOF)
 *   weft_stream_read(out, 65536, on_read, user);    (until WEFT_ERR_END_OF_FILE)
 *   weft_process_wait(child, on_exit, user);        (exit code or signal)
 *   ...
 *   weft_stream_close(in); weft_stream_close(out); weft_process_close(child);
 *
 * Handles. A process handle belongs to the scope of the loop handle it was
 * spawned through, and to the caller, who ends it with weft_process_close;
 * the scope's cancellation or destruction and the runtime's destruction end
 * it too. Once ended, its handle is stale (WEFT_ERR_STALE_HANDLE). The handle
 * stays valid after the child has exited (its exit status can still be
 * waited for) until it is closed.
 *
 * The child outlives its handle. Ending a process handle neither kills the
 * child nor waits for it: weft still reaps it when it exits, as long as the
 * loop runs (once the runtime is destroyed, nobody does). To stop the child,
 * call weft_process_kill before weft_process_close.
 *
 * Pipes. Each of stdin/stdout/stderr is inherited from this process (the
 * default), a pipe, or /dev/null. The parent's end of a pipe is taken out
 * once, as its own stream handle (weft_process_stdin/stdout/stderr): the
 * caller owns it and ends it with weft_stream_close; it belongs to the
 * process's scope and lives on independently of the process handle (closing
 * the process does not close a stream taken out of it). A pipe end never
 * taken is closed with the process handle.
 *
 * Callbacks. Every callback passed here is called exactly once, on the loop
 * thread: from a loop run when the child has exited, or with
 * WEFT_ERR_CANCELLED inside the call that ended its handle
 * (weft_process_close, weft_scope_cancel/destroy, weft_runtime_destroy). If a
 * function returns an error, its callback is never called and `user` stays
 * yours.
 *
 * Thread: loop thread, for every function here. POSIX only.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_PROCESS_H
#define WEFT_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"
#include "weft/stream.h"

WEFT_EXTERN_C_BEGIN

/* A child process. */
typedef struct weft_process weft_process_t;

/* What one of the child's stdin/stdout/stderr is. */
typedef enum weft_stdio_mode {
  WEFT_STDIO_INHERIT = 0, /* the same file as this process's (the default) */
  WEFT_STDIO_PIPE = 1,    /* a pipe; take its end with weft_process_stdin/stdout/stderr */
  WEFT_STDIO_NULL = 2,    /* /dev/null */
  WEFT_STDIO_FORCE32 = 0x7FFFFFFF
} weft_stdio_mode;

/* Options of weft_process_spawn. Set struct_size (WEFT_PROCESS_OPTIONS_INIT).
 * Every string and array is copied during the call. */
typedef struct weft_process_options {
  size_t struct_size;
  /* The program to run (required). Without a '/' it is searched for in the
   * PATH (of this process). */
  const char* file;
  /* The child's argv, NULL-terminated (required, at least args[0]), given
   * to it as they are — as execvp(file, args) does: by convention args[0]
   * is the program's name, but `file` alone says what runs. */
  const char* const* args;
  /* The child's whole environment as "NAME=value" entries, NULL-terminated;
   * NULL: this process's environment. */
  const char* const* env;
  /* The child's working directory; NULL or "": this process's. */
  const char* cwd;
  weft_stdio_mode stdin_mode;
  weft_stdio_mode stdout_mode;
  weft_stdio_mode stderr_mode;
} weft_process_options;

#define WEFT_PROCESS_OPTIONS_INIT                                                         \
  {                                                                                       \
    sizeof(weft_process_options), NULL, NULL, NULL, NULL, WEFT_STDIO_INHERIT,             \
        WEFT_STDIO_INHERIT, WEFT_STDIO_INHERIT                                            \
  }

/* Fills `options` with WEFT_PROCESS_OPTIONS_INIT's values for a struct of
 * `struct_size` bytes. Errors: WEFT_ERR_INVALID_ARGUMENT (options NULL,
 * struct_size too small). Thread: any thread. Since 1.0. */
WEFT_API weft_status weft_process_options_init(weft_process_options* options, size_t struct_size);

/* The callback of weft_process_wait. With WEFT_OK the child has exited:
 * `exit_code` is its exit code and `term_signal` 0, or `term_signal` is the
 * signal that ended it (SIGTERM, SIGKILL, ...). Otherwise (WEFT_ERR_CANCELLED,
 * WEFT_ERR_CLOSED) both are 0 and `message` says why. */
typedef void (*weft_process_wait_callback)(void* user, weft_status status, const char* message,
                                           int64_t exit_code, int term_signal);

/* Starts a child process (see weft_process_options). The caller owns *out;
 * end it with weft_process_close (which leaves the child running).
 * Errors, returned at once (nothing was started then): WEFT_ERR_NOT_FOUND
 * (no such program, or no such cwd), WEFT_ERR_PERMISSION_DENIED (not
 * executable), WEFT_ERR_INVALID_ARGUMENT (NULL out or options, a bad
 * struct_size, NULL or empty file, NULL args or args[0], an env entry
 * without '=', a stdio mode not in weft_stdio_mode),
 * WEFT_ERR_TOO_MANY_OPEN_FILES, WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_process_spawn(weft_process_t** out, weft_loop_t* loop,
                                        const weft_process_options* options);

/* The child's process id (still given after it has exited).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_process_pid(int* out, weft_process_t* process);

/* Takes the parent's end of the child's stdin pipe (to write to), stdout or
 * stderr pipe (to read from) as a stream handle. The caller owns *out and
 * ends it with weft_stream_close; the process handle does not own it.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (out NULL), WEFT_ERR_INVALID_STATE (that
 * stdio is not a pipe, or its end was taken already).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_process_stdin(weft_stream_t** out, weft_process_t* process);
WEFT_API weft_status weft_process_stdout(weft_stream_t** out, weft_process_t* process);
WEFT_API weft_status weft_process_stderr(weft_stream_t** out, weft_process_t* process);

/* Sends signal `signum` (SIGTERM, SIGKILL, ...; 0 only checks) to the child.
 * Returns WEFT_ERR_ALREADY_COMPLETED, and sends nothing, once weft has seen
 * the child exit (not a misuse: a child may exit at any time).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (not a signal number).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_process_kill(weft_process_t* process, int signum);

/* Waits for the child to exit: `callback(user, WEFT_OK, NULL, exit_code,
 * term_signal)` from a loop run once it has (from the next loop run if it
 * already has). Several waits may be pending; each gets the status. A
 * pending wait keeps weft_loop_run going. Its future (weft/weft.h's one
 * asynchronous model) resolves with an INT64: the exit code, or minus the
 * signal that ended the child (as Python's returncode).
 * Errors: WEFT_ERR_CLOSED (the scope was cancelled).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_process_wait(weft_future_t** out, weft_process_t* process,
                                       weft_process_wait_callback callback, void* user);

/* Ends the handle: pending waits are called with WEFT_ERR_CANCELLED before
 * this returns, and the pipe ends not taken out are closed. The child is
 * neither killed nor waited for (see the top of this file). NULL is fine.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_process_close(weft_process_t* process);

WEFT_EXTERN_C_END

#endif /* WEFT_PROCESS_H */
