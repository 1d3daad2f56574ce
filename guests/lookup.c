/* Memory-bound table lookups: fills a table of 2^k pseudo-random u32 values, then follows a
 * chain of dependent lookups through it (each index comes from the previous value), so the run
 * is bound by memory latency once the table is larger than the caches.
 * Input:  seed u64 LE, k u32 LE (at most 24, else trap), steps u32 LE (exactly 16 bytes, else
 *         trap).
 * Output: the checksum u64 LE and the last index u32 LE (12 bytes). */
#include "verity.h"

VERITY_ENTRY {
    uint8_t in[16];
    if (verity_input_len() != 16) {
        __builtin_trap();
    }
    verity_read_input(in, 0, 16);
    uint64_t x = verity_le64(in) | 1u;
    uint32_t k = verity_le32(in + 8);
    uint32_t steps = verity_le32(in + 12);
    if (k > 24) {
        __builtin_trap();
    }
    uint32_t n = 1u << k;
    uint32_t mask = n - 1u;
    uint32_t *table = verity_alloc(4 * n);
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        table[i] = (uint32_t)(x >> 32);
    }
    uint64_t sum = 0;
    uint32_t idx = 0;
    for (uint32_t s = 0; s < steps; s++) {
        uint32_t v = table[idx];
        sum = sum * 31u + v;
        idx = (v ^ s) & mask;
    }
    uint8_t out[12];
    verity_put_le64(out, sum);
    verity_put_le32(out + 8, idx);
    verity_write_output(out, 12);
}
