/* weft/file.h: files, read and written off the loop thread.
 *
 *   weft_file_open(NULL, loop, "data.bin", WEFT_FILE_READ, NULL, on_open, user);
 *   weft_file_read_at(NULL, file, 0, 4096, on_read, user);  (bytes valid in on_read)
 *   weft_file_write_at(NULL, file, offset, bytes, len, on_written, user);
 *   weft_file_close(file);
 *   weft_file_read_all(NULL, loop, "config.txt", NULL, on_read, user);
 *
 * Every file call blocks in the kernel (regular files are always "ready"),
 * so weft runs each one on an executor (weft/executor.h): the runtime's
 * default pool, or the one named in the options. The callbacks come back on
 * the loop thread. Reads and writes are positional (pread/pwrite): several
 * may be in flight on one file and they share no file offset; their order
 * on the disk is the order the workers run them in.
 *
 * Handles. A file belongs to the scope of the loop handle it was opened
 * through, and to the callback that receives it: end it with
 * weft_file_close; the scope's cancellation or destruction and the
 * runtime's destruction end it too. Once ended, its handle is stale
 * (WEFT_ERR_STALE_HANDLE). The descriptor itself is closed off the loop,
 * once the calls already running on workers have returned.
 *
 * Every operation follows weft's one asynchronous model (weft/weft.h): an
 * optional future `out`, a callback that may be NULL, a status and a
 * message. Their futures resolve with: open, a POINTER holding the
 * weft_file_t* (still yours to close); reads, BYTES; write_at and size, an
 * INT64; sync and write_all, NONE.
 *
 * Callbacks. Every callback passed here is called exactly once, on the loop
 * thread: from a loop run when its operation completes, or with
 * WEFT_ERR_CANCELLED inside the call that ended its handle (weft_file_close,
 * weft_scope_cancel/destroy, weft_runtime_destroy). An operation cancelled
 * (its handle closed, or weft_future_cancel on its future) before a worker
 * picks it up is never made; one already running on a
 * worker finishes there (a write may still reach the file) and its outcome
 * is dropped. If a function returns an error, its callback is never called
 * and `user` stays yours. Failures are statuses of the one error table:
 * WEFT_ERR_NOT_FOUND, WEFT_ERR_PERMISSION_DENIED, WEFT_ERR_ALREADY_EXISTS,
 * WEFT_ERR_NO_SPACE, WEFT_ERR_IO_ERROR (also for a directory read as a
 * file), WEFT_ERR_TOO_MANY_OPEN_FILES, WEFT_ERR_MESSAGE_TOO_LONG (a name
 * too long), and WEFT_ERR_CLOSED when the executor no longer takes work (it
 * was destroyed).
 *
 * Executors. The executor must belong to the loop's runtime. Destroying it
 * while files use it is allowed: their later operations fail with
 * WEFT_ERR_CLOSED (and weft_file_close then closes the descriptor on the
 * loop thread). Destroying it on another thread while a call here runs is a
 * race, as with any handle.
 *
 * Thread: loop thread, for every function here.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_FILE_H
#define WEFT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "weft/common.h"

WEFT_EXTERN_C_BEGIN

/* An open file. */
typedef struct weft_file weft_file_t;

/* How weft_file_open opens a file: a bitmask of these (as a uint32_t). */
typedef enum weft_file_mode {
  WEFT_FILE_READ = 1,        /* for reading */
  WEFT_FILE_WRITE = 2,       /* for writing */
  WEFT_FILE_READ_WRITE = 3,  /* both */
  WEFT_FILE_CREATE = 4,      /* create it if missing (with options->permissions) */
  WEFT_FILE_TRUNCATE = 8,    /* empty it on open (needs WRITE) */
  WEFT_FILE_APPEND = 16,     /* every write goes to the end; write offsets are ignored (needs WRITE) */
  WEFT_FILE_EXCLUSIVE = 32,  /* with CREATE: fail with WEFT_ERR_ALREADY_EXISTS if it exists */
  WEFT_FILE_MODE_FORCE32 = 0x7FFFFFFF
} weft_file_mode;

/* Options of weft_file_open, weft_file_read_all and weft_file_write_all.
 * Set struct_size (WEFT_FILE_OPTIONS_INIT); zero fields mean defaults. */
typedef struct weft_file_options {
  size_t struct_size;
  weft_executor_t* executor; /* where the calls run; NULL: the runtime's default pool */
  uint32_t permissions;      /* of a file created (before the umask), at most 07777; 0: 0644 */
} weft_file_options;

#define WEFT_FILE_OPTIONS_INIT { sizeof(weft_file_options), NULL, 0 }

/* The callback of weft_file_open: `file` is the open file if status is
 * WEFT_OK (the callback's receiver owns it; end it with weft_file_close),
 * NULL otherwise. */
typedef void (*weft_file_callback)(void* user, weft_status status, const char* message,
                                   weft_file_t* file);

/* The callback of weft_file_write_at (bytes written: all of them) and
 * weft_file_size (the file's size): `size` is 0 on failure. */
typedef void (*weft_file_size_callback)(void* user, weft_status status, const char* message,
                                        uint64_t size);

/* Fills `options` with WEFT_FILE_OPTIONS_INIT's values for a struct of
 * `struct_size` bytes. Errors: WEFT_ERR_INVALID_ARGUMENT (options NULL,
 * struct_size too small). Thread: any thread. Since 1.0. */
WEFT_API weft_status weft_file_options_init(weft_file_options* options, size_t struct_size);

/* Opens `path` (copied) on a worker; `callback` gets the file, or
 * WEFT_ERR_NOT_FOUND, WEFT_ERR_ALREADY_EXISTS (CREATE | EXCLUSIVE),
 * WEFT_ERR_PERMISSION_DENIED, WEFT_ERR_IO_ERROR (a directory opened for
 * writing), ... `mode` is a bitmask of weft_file_mode with READ or WRITE (or
 * both). The open belongs to the loop handle's scope, and so does the file.
 * `options` may be NULL.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL path, neither READ nor
 * WRITE, an unknown bit, TRUNCATE or APPEND without WRITE, EXCLUSIVE without
 * CREATE, permissions above 07777, bad options, an executor of another
 * runtime), WEFT_ERR_INVALID_HANDLE / WEFT_ERR_STALE_HANDLE (the executor),
 * WEFT_ERR_CLOSED (the scope was cancelled, the executor is being destroyed).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_open(weft_future_t** out, weft_loop_t* loop, const char* path,
                                    uint32_t mode, const weft_file_options* options,
                                    weft_file_callback callback, void* user);

/* Reads up to `max` bytes at `offset` (weft_bytes_callback): fewer only at
 * the end of the file; at or past the end, WEFT_OK with len 0 (bytes NULL):
 * the end of a file is not an error. A buffer of `max` bytes is allocated for
 * the read. Several reads and writes may be pending on one file.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (max 0, offset above
 * INT64_MAX), WEFT_ERR_INVALID_STATE (not opened with READ), WEFT_ERR_CLOSED
 * (the scope was cancelled).
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_read_at(weft_future_t** out, weft_file_t* file, uint64_t offset,
                                       size_t max, weft_bytes_callback callback, void* user);

/* Writes `len` bytes (copied during the call) at `offset` (ignored for a
 * file opened with APPEND); a worker retries short writes until all are
 * written. `callback(user, WEFT_OK, NULL, len)` then, or the failure
 * (WEFT_ERR_NO_SPACE, WEFT_ERR_IO_ERROR, ...). len 0 writes nothing.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (bytes NULL with len > 0, offset above
 * INT64_MAX), WEFT_ERR_INVALID_STATE (not opened with WRITE),
 * WEFT_ERR_CLOSED. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_write_at(weft_future_t** out, weft_file_t* file, uint64_t offset,
                                        const void* bytes, size_t len,
                                        weft_file_size_callback callback, void* user);

/* The file's size now (fstat). Errors: WEFT_ERR_CLOSED.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_size(weft_future_t** out, weft_file_t* file,
                                    weft_file_size_callback callback, void* user);

/* Flushes the file's data and metadata to the disk (fsync); `callback` runs
 * once done. Errors: WEFT_ERR_CLOSED. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_sync(weft_future_t** out, weft_file_t* file, weft_callback callback,
                                    void* user);

/* Ends the handle at once: pending operations are called with
 * WEFT_ERR_CANCELLED before this returns. The descriptor is closed on a
 * worker once the calls already running there have returned; close(2)'s
 * own result is not reported (call weft_file_sync first to learn whether
 * the data reached the disk). NULL is fine.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_close(weft_file_t* file);

/* Reads the whole file at `path` (copied) on a worker: `callback(user,
 * WEFT_OK, NULL, bytes, len)` with its contents (len 0 for an empty file), or
 * WEFT_ERR_NOT_FOUND, WEFT_ERR_PERMISSION_DENIED, WEFT_ERR_IO_ERROR (a
 * directory), ... The read belongs to the loop handle's scope. `options`
 * may be NULL (only its executor is used).
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL path, bad options),
 * WEFT_ERR_CLOSED, and the executor's errors as for weft_file_open.
 * Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_read_all(weft_future_t** out, weft_loop_t* loop, const char* path,
                                        const weft_file_options* options,
                                        weft_bytes_callback callback, void* user);

/* Creates or truncates the file at `path` (copied) and writes `len` bytes
 * (copied during the call) on a worker; `callback` gets WEFT_OK once they are written and the file closed, or the failure. A file
 * created gets options->permissions. The write belongs to the loop
 * handle's scope; cancelled before a worker picks it up, the file is not
 * touched.
 * Errors: WEFT_ERR_INVALID_ARGUMENT (NULL path, bytes NULL with len > 0,
 * bad options), WEFT_ERR_CLOSED, and the executor's errors as for
 * weft_file_open. Thread: loop thread. Since 0.3. */
WEFT_API weft_status weft_file_write_all(weft_future_t** out, weft_loop_t* loop, const char* path,
                                         const void* bytes, size_t len,
                                         const weft_file_options* options, weft_callback callback,
                                         void* user);

WEFT_EXTERN_C_END

#endif /* WEFT_FILE_H */
