#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 (FIPS 180-4) state. Uses the x86 SHA extensions when the processor has them, checked once
/// at run time, and portable C otherwise; both give the same digest.
typedef struct {
    uint32_t state[8];
    uint64_t length;       // bytes hashed so far
    uint8_t buffer[64];    // a partial block
    uint32_t buffered;     // bytes in `buffer`
    uint32_t portable;     // nonzero: never use the SHA extensions (for tests)
} csha256_ctx;

void csha256_init(csha256_ctx *ctx);
/// Like csha256_init, but the context always uses the portable code (so tests can compare both).
void csha256_init_portable(csha256_ctx *ctx);
void csha256_update(csha256_ctx *ctx, const void *data, size_t count);
void csha256_final(csha256_ctx *ctx, uint8_t digest[32]);
/// 1 when csha256_init contexts use the SHA extensions on this processor.
int csha256_has_hardware(void);

#endif
