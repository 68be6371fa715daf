// What the I/O steps of the C API fuzz target share between their files:
// capi_fuzz_io.cc (the steps themselves, opcodes 224..255, and the temp
// dir), capi_fuzz_io_signals.cc (the signal steps) and
// capi_fuzz_io_checks.cc (the I/O callbacks, which check that their
// arguments agree with their status, and the misuse step, which calls every
// I/O function with handles of the wrong kind, ended or forged).
#ifndef WEFT_TESTS_FUZZ_CAPI_FUZZ_IO_H
#define WEFT_TESTS_FUZZ_CAPI_FUZZ_IO_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/capi_fuzz.h"
#include "weft/weft.h"

namespace capi_fuzz {

// Bytes to write: lines, CRLF, a NUL, so that read_until's delimiters occur.
inline constexpr char kText[] = "line\nfuzz\r\nabc\0def\n\n";

// capi_fuzz_io.cc: the temp dir, and a path in it for the file and socket
// steps (a file, a socket name, the dir itself, a missing dir, names too
// long, "", or NULL), by `b`. Either marks the temp dir to be emptied when
// the input ends.
const std::string& temp_dir();
const char* path_of(uint8_t b);

// capi_fuzz_io_signals.cc: the signal steps (io_step's opcodes 24..27), and
// the handler weft installed for `signum` (SIGUSR1 or SIGUSR2), recorded
// once a watch of it succeeded: the steps raise it only while that handler
// is in place.
void signal_step(World& w, Input& in, uint8_t op, uint8_t a);
void remember_weft_handler(int signum);

// capi_fuzz_io_checks.cc: the I/O callbacks (each checks what op_called
// checks, then that its arguments agree with its status).
bool address_ok(const weft_address& a);
void on_stream_read(void* user, weft_status status, const char* message, const void* bytes, size_t len);
// weft_stream_read_into's memory (the Call's `max` bytes of one shared
// buffer, or a refusal when max is 0) and its callback.
void* lend_read_memory(void* user, size_t* len);
void on_stream_read_into(void* user, weft_status status, const char* message, const void* bytes,
                         size_t len);
void on_pipe_stream(void* user, weft_status status, const char* message, weft_stream_t* stream);
void on_datagram(void* user, weft_status status, const char* message, const void* bytes, size_t len,
                 const weft_address* from, int truncated);
void on_file(void* user, weft_status status, const char* message, weft_file_t* file);
void on_file_read(void* user, weft_status status, const char* message, const void* bytes, size_t len);
void on_file_size(void* user, weft_status status, const char* message, uint64_t size);
void on_resolved(void* user, weft_status status, const char* message, const weft_address* addresses,
                 size_t count);
void on_signal(void* user, weft_status status, const char* message, int signum);
// Every I/O function with one handle that is (most likely) not of its kind.
void misuse_all(World& w, Input& in);
// weft_process_spawn with options that must fail before anything starts.
void spawn_misuse(World& w, Input& in, uint8_t a);

}  // namespace capi_fuzz

#endif
