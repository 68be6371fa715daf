/* weft/version.h: the version of the headers, and of the library at run time.
 *
 * Versions with the same WEFT_ABI_VERSION are ABI compatible: within one ABI
 * version functions, enum values and trailing struct fields are only added,
 * never changed or removed (a changed behaviour gets a new name). The ABI
 * version is the number in the shared library's SONAME (libweft.so.1).
 * MINOR grows with every addition, PATCH with fixes only.
 *
 * A program or plugin checks at load time that the library it got is at
 * least as new as the headers it was compiled with:
 *
 *   if (WEFT_VERSION_CHECK() != WEFT_OK) refuse_to_load();
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_VERSION_H
#define WEFT_VERSION_H

#include <stdint.h>

#include "weft/export.h"
#include "weft/status.h"

#define WEFT_VERSION_MAJOR 1
#define WEFT_VERSION_MINOR 4
#define WEFT_VERSION_PATCH 0
#define WEFT_VERSION_STRING "1.4.0"
/* 0xMMmmpp: major, minor, patch; compares in release order. */
#define WEFT_VERSION_HEX \
  ((WEFT_VERSION_MAJOR << 16) | (WEFT_VERSION_MINOR << 8) | WEFT_VERSION_PATCH)
#define WEFT_ABI_VERSION 1

/* weft_version_check(WEFT_ABI_VERSION, WEFT_VERSION_HEX): the headers this
 * code was compiled with against the library it runs with. */
#define WEFT_VERSION_CHECK() weft_version_check(WEFT_ABI_VERSION, WEFT_VERSION_HEX)

WEFT_EXTERN_C_BEGIN

/* The library's WEFT_VERSION_HEX. Thread: any thread. Since 0.1. */
WEFT_API uint32_t weft_version(void);

/* The library's WEFT_VERSION_STRING; a static string. Thread: any thread. Since 0.1. */
WEFT_API const char* weft_version_string(void);

/* The library's WEFT_ABI_VERSION. Thread: any thread. Since 0.1. */
WEFT_API uint32_t weft_abi_version(void);

/* WEFT_OK if code compiled against headers of ABI version `abi_version` and
 * version `version_hex` can use this library: same ABI version, and the
 * library is at least as new (it has every function those headers declare).
 * Otherwise WEFT_ERR_VERSION_MISMATCH. Thread: any thread. Since 0.1. */
WEFT_API weft_status weft_version_check(uint32_t abi_version, uint32_t version_hex);

WEFT_EXTERN_C_END

#endif /* WEFT_VERSION_H */
