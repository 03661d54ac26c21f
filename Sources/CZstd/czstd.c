// Loads libzstd.so.1 with dlopen and calls it through function pointers (see czstd.h).
#include "czstd.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct {
    size_t (*compress_bound)(size_t);
    void *(*create_cctx)(void);
    size_t (*free_cctx)(void *);
    size_t (*compress_cctx)(void *, void *, size_t, const void *, size_t, int);
    size_t (*decompress)(void *, size_t, const void *, size_t);
    unsigned long long (*get_frame_content_size)(const void *, size_t);
    unsigned (*is_error)(size_t);
    const char *(*get_error_name)(size_t);
} zstd;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *load_error = NULL;
static char message[512];

static void *symbol(void *library, const char *name) {
    void *p = dlsym(library, name);
    if (p == NULL && load_error == NULL) {
        snprintf(message, sizeof message, "libzstd.so.1 has no function %s; install a current zstd runtime (Debian: libzstd1)", name);
        load_error = message;
    }
    return p;
}

static void load(void) {
    void *library = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(message, sizeof message,
                 "ZSTD needs the zstd runtime library libzstd.so.1 (Debian: libzstd1), which could not be loaded: %s",
                 reason ? reason : "not found");
        load_error = message;
        return;
    }
    zstd.compress_bound = (size_t (*)(size_t))symbol(library, "ZSTD_compressBound");
    zstd.create_cctx = (void *(*)(void))symbol(library, "ZSTD_createCCtx");
    zstd.free_cctx = (size_t (*)(void *))symbol(library, "ZSTD_freeCCtx");
    zstd.compress_cctx = (size_t (*)(void *, void *, size_t, const void *, size_t, int))symbol(library, "ZSTD_compressCCtx");
    zstd.decompress = (size_t (*)(void *, size_t, const void *, size_t))symbol(library, "ZSTD_decompress");
    zstd.get_frame_content_size = (unsigned long long (*)(const void *, size_t))symbol(library, "ZSTD_getFrameContentSize");
    zstd.is_error = (unsigned (*)(size_t))symbol(library, "ZSTD_isError");
    zstd.get_error_name = (const char *(*)(size_t))symbol(library, "ZSTD_getErrorName");
}

const char *czstd_load_error(void) {
    pthread_once(&once, load);
    return load_error;
}

size_t czstd_compress_bound(size_t source_size) { return zstd.compress_bound(source_size); }
void *czstd_create_cctx(void) { return zstd.create_cctx(); }
void czstd_free_cctx(void *context) { zstd.free_cctx(context); }
size_t czstd_compress_cctx(void *context, void *destination, size_t capacity, const void *source,
                           size_t source_size, int level) {
    return zstd.compress_cctx(context, destination, capacity, source, source_size, level);
}
size_t czstd_decompress(void *destination, size_t capacity, const void *source, size_t source_size) {
    return zstd.decompress(destination, capacity, source, source_size);
}
unsigned long long czstd_get_frame_content_size(const void *source, size_t source_size) {
    return zstd.get_frame_content_size(source, source_size);
}
unsigned czstd_is_error(size_t code) { return zstd.is_error(code); }
const char *czstd_get_error_name(size_t code) { return zstd.get_error_name(code); }
