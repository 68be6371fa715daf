/* weft/export.h: the export and linkage macros every weft header uses.
 *
 * Part of weft's C ABI; see weft/weft.h. C99; also valid C++.
 */
#ifndef WEFT_EXPORT_H
#define WEFT_EXPORT_H

/* Marks a function of the C ABI. The library is built with hidden visibility
 * and WEFT_BUILDING defined, so only what carries WEFT_API is exported. */
#if defined(WEFT_BUILDING) && defined(__GNUC__)
#define WEFT_API __attribute__((visibility("default")))
#else
#define WEFT_API
#endif

#ifdef __cplusplus
#define WEFT_EXTERN_C_BEGIN extern "C" {
#define WEFT_EXTERN_C_END }
#else
#define WEFT_EXTERN_C_BEGIN
#define WEFT_EXTERN_C_END
#endif

#endif /* WEFT_EXPORT_H */
