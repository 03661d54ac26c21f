#ifndef CZSTD_H
#define CZSTD_H

#include <stddef.h>

/// zstd, loaded at run time from the shared library `libzstd.so.1` (Debian's `libzstd1`), so that
/// building needs no zstd header package. The first call loads it once; every function below
/// requires czstd_load_error() to have returned NULL.

/// NULL when libzstd is loaded and has every function used here; otherwise a message that names
/// the library and what went wrong. Safe to call from any thread.
const char *czstd_load_error(void);

size_t czstd_compress_bound(size_t source_size);
void *czstd_create_cctx(void);
void czstd_free_cctx(void *context);
size_t czstd_compress_cctx(void *context, void *destination, size_t capacity, const void *source,
                           size_t source_size, int level);
size_t czstd_decompress(void *destination, size_t capacity, const void *source, size_t source_size);
/// The decompressed size a frame declares; CZSTD_CONTENTSIZE_UNKNOWN or CZSTD_CONTENTSIZE_ERROR if none.
unsigned long long czstd_get_frame_content_size(const void *source, size_t source_size);
unsigned czstd_is_error(size_t code);
const char *czstd_get_error_name(size_t code);

#define CZSTD_CONTENTSIZE_UNKNOWN (0ULL - 1)
#define CZSTD_CONTENTSIZE_ERROR (0ULL - 2)

#endif
