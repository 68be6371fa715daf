// WEFT_FAST_TLS: marks the thread_local variables that every I/O operation
// reads (the read-buffer pool and scratch buffer, the frame pool, the
// current loop) for the initial-exec TLS model.
//
// Why: in libweft.so (position-independent code) a thread_local is reached
// by default through __tls_get_addr, a function call per access (the
// general-dynamic model): about 14 calls and 150 instructions per 16 KiB
// echo through the C API. With initial-exec the access is one load from the
// GOT and one off the thread pointer; in an executable the linker makes it
// an offset from the thread pointer either way.
//
// The price: these variables live in the static TLS block, so a process
// that loads libweft.so with dlopen (a Python or Lua module linking it)
// takes their room (under 100 bytes) from glibc's reserve for such
// libraries, which is several hundred bytes.
//
// Such a variable must have external linkage (hidden, which the macro
// adds): GNU ld 2.40 gave initial-exec variables of internal linkage
// (anonymous namespace) from different files of libweft.so one another's
// GOT slots.
// ld names them in libweft.so's dynamic symbol table, as local symbols
// (for their TLS relocations): not exported (capi/abi/exports_test.sh).
#pragma once

#if defined(__GNUC__) && defined(__ELF__)
#define WEFT_FAST_TLS __attribute__((tls_model("initial-exec"), visibility("hidden")))
#else
#define WEFT_FAST_TLS
#endif
