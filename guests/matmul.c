/* Integer matrix multiply C = A x B over n x n matrices of i32 with wrapping arithmetic.
 * Input:  n (u32 LE, 1..=1024), then A and B, each n*n i32 LE in row-major order.
 * Output: C, n*n i32 LE in row-major order.
 * A malformed input (n out of range, or a length other than 4 + 8*n*n) traps (`unreachable`). */
#include "verity.h"

VERITY_ENTRY {
    uint32_t len;
    uint8_t *in = verity_read_all(&len);
    if (len < 4) {
        __builtin_trap();
    }
    uint32_t n = verity_le32(in);
    if (n == 0 || n > 1024 || len - 4 != 8 * n * n) {
        __builtin_trap();
    }
    uint32_t nn = n * n;
    /* Decode into aligned native arrays (wasm is little-endian, but the input is unaligned). */
    uint32_t *a = verity_alloc(4 * nn);
    uint32_t *b = verity_alloc(4 * nn);
    uint32_t *c = verity_alloc(4 * nn);
    for (uint32_t i = 0; i < nn; i++) {
        a[i] = verity_le32(in + 4 + 4 * i);
        b[i] = verity_le32(in + 4 + 4 * nn + 4 * i);
        c[i] = 0;
    }
    /* i-k-j order: the inner loop walks rows of B and C contiguously. Unsigned arithmetic is
     * the wrapping two's-complement product the output format asks for. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t *crow = c + i * n;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t aik = a[i * n + k];
            const uint32_t *brow = b + k * n;
            for (uint32_t j = 0; j < n; j++) {
                crow[j] += aik * brow[j];
            }
        }
    }
    uint8_t *out = (uint8_t *)a; /* A is no longer needed; reuse it for the encoded output. */
    for (uint32_t i = 0; i < nn; i++) {
        verity_put_le32(out + 4 * i, c[i]);
    }
    verity_write_output(out, 4 * nn);
}
